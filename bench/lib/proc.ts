/**
 * @module bench/lib/proc
 * Process accounting read from /proc: CPU time (utime + stime of every thread of the process) and
 * resident memory (VmRSS now, VmHWM peak). Linux only; elsewhere the figures are reported as absent.
 */
import { readFileSync } from 'node:fs'

let clockTicks: number | undefined

/** Clock ticks per second (`getconf CLK_TCK`), almost always 100. */
export function clkTck(): number {
  if (clockTicks === undefined) {
    const out = Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString().trim()
    clockTicks = Number(out) || 100
  }
  return clockTicks
}

/** Total CPU time (user + system) the process has used so far, in microseconds; undefined if unreadable. */
export function cpuMicros(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    const utime = Number(fields[11])
    const stime = Number(fields[12])
    return ((utime + stime) * 1_000_000) / clkTck()
  } catch {
    return undefined
  }
}

export interface Memory {
  /** Resident set now, KiB. */
  rssKb: number
  /** Peak resident set ("high water mark"), KiB. */
  hwmKb: number
}

export function memory(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8')
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN)
    return { rssKb: field('VmRSS'), hwmKb: field('VmHWM') }
  } catch {
    return undefined
  }
}

/** Load averages (1, 5, 15 min). */
export function loadAverage(): [number, number, number] {
  try {
    const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number)
    return [a ?? NaN, b ?? NaN, c ?? NaN]
  } catch {
    return [NaN, NaN, NaN]
  }
}

/** Aggregate CPU jiffies of the whole machine: [busy, total], to compute how busy it was over a window. */
export function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const total = v.reduce((a, b) => a + b, 0)
    const idle = (v[3] ?? 0) + (v[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}
