/**
 * @module bench/lib/wrk
 * The HTTP load generator: `wrk` (installed from the distribution when missing), driven by a
 * generated Lua script that sets the request and prints a JSON summary when the run ends.
 */
import { writeFileSync } from 'node:fs'
import { CLIENT_CPU, pinned } from './spawn.ts'

export interface WrkResult {
  requests: number
  durationS: number
  /** Socket errors and non-2xx/3xx answers. */
  errors: { connect: number; read: number; write: number; status: number; timeout: number }
  latencyUs: { p50: number; p90: number; p99: number; max: number; mean: number }
  /** CPU the generator itself used, µs, and the wall time it ran, µs. */
  generatorCpuUs: number
  wallUs: number
  raw: string
}

/** wrk's path, installing Debian's `wrk` with apt-get when it is missing. */
export async function ensureWrk(log: (s: string) => void): Promise<string> {
  const found = Bun.which('wrk')
  if (found) return found
  if (!Bun.which('apt-get')) throw new Error('wrk is missing and apt-get is not available: install wrk (https://github.com/wg/wrk) and rerun')
  const asRoot = process.getuid?.() === 0 ? [] : Bun.which('sudo') ? ['sudo', '-n'] : null
  if (asRoot === null) throw new Error('wrk is missing: run `sudo apt-get install -y wrk` and rerun')
  log('wrk not found: installing it with apt-get (Debian package "wrk")')
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  const install = () => Bun.spawnSync([...asRoot, 'apt-get', 'install', '-y', '--no-install-recommends', 'wrk'], { env, stdout: 'inherit', stderr: 'inherit' })
  if (install().exitCode !== 0) {
    Bun.spawnSync([...asRoot, 'apt-get', 'update'], { env, stdout: 'inherit', stderr: 'inherit' })
    if (install().exitCode !== 0) throw new Error('apt-get install wrk failed; install wrk by hand and rerun')
  }
  const path = Bun.which('wrk')
  if (!path) throw new Error('wrk was installed but is not on PATH')
  return path
}

export function wrkVersion(): string {
  const out = Bun.spawnSync(['wrk', '--version']).stdout.toString()
  return /wrk\s+(\S+)/.exec(out)?.[1] ?? 'unknown'
}

const luaString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`

/**
 * Write a wrk script that POSTs `body` with `headers` and prints a JSON summary at the end. Every
 * `{{id}}` in the body is replaced by a counter (1…1024, in turn), so no two requests in flight
 * share a JSON-RPC id (requests on one MCP session must not reuse an id while another is pending).
 */
export function writeScript(path: string, body: string, headers: Record<string, string>): void {
  const parts = body.split('{{id}}')
  const expr = parts.map(luaString).join(' .. counter .. ')
  const lines = ['wrk.method = "POST"', `wrk.body = ${luaString(body.replaceAll('{{id}}', '1'))}`]
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${luaString(k)}] = ${luaString(v)}`)
  lines.push(
    // 1,024 requests built once and sent in turn: ids repeat only long after their answers came
    // back (at most `connections` are in flight), and the generator does no per-request work.
    // Built in init(): wrk knows the URL's path only once the thread starts.
    'local prepared, n = {}, 0',
    'init = function(args)',
    '  for counter = 1, 1024 do',
    `    prepared[counter] = wrk.format(nil, nil, nil, ${expr})`,
    '  end',
    'end',
    'request = function()',
    '  n = n % 1024 + 1',
    '  return prepared[n]',
    'end',
    'done = function(summary, latency, requests)',
    '  local e = summary.errors',
    '  io.write(string.format(\'\\nBENCH_JSON {"requests":%d,"duration_us":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},"p50":%d,"p90":%d,"p99":%d,"max":%d,"mean":%.1f}\\n\',',
    '    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,',
    '    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))',
    'end',
  )
  writeFileSync(path, lines.join('\n') + '\n')
}

/** Run wrk once (1 thread, pinned to the client core) and parse its summary. */
export async function runWrk(url: string, script: string, connections: number, seconds: number): Promise<WrkResult> {
  const pin = pinned ? ['taskset', '-c', CLIENT_CPU] : []
  const proc = Bun.spawn([...pin, 'wrk', '-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, url], {
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const startedAt = performance.now()
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  const wall = (performance.now() - startedAt) * 1000
  const genCpu = Number(proc.resourceUsage()?.cpuTime.total ?? 0n)
  const m = /BENCH_JSON (\{.*\})/.exec(out)
  if (code !== 0 || !m) throw new Error(`wrk failed (exit ${code}): ${err || out}`)
  const j = JSON.parse(m[1]!) as {
    requests: number
    duration_us: number
    errors: WrkResult['errors']
    p50: number
    p90: number
    p99: number
    max: number
    mean: number
  }
  return {
    requests: j.requests,
    durationS: j.duration_us / 1e6,
    errors: j.errors,
    latencyUs: { p50: j.p50, p90: j.p90, p99: j.p99, max: j.max, mean: j.mean },
    generatorCpuUs: genCpu,
    wallUs: wall,
    raw: out,
  }
}
