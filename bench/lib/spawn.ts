/**
 * @module bench/lib/spawn
 * Starting and stopping the processes of a run: servers pinned to one core, load generators to the
 * other (when `taskset` exists and the machine has two or more cores), every one with a raised
 * open-file limit, every one stopped by its own pid at the end.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { cpus } from 'node:os'

export const SERVER_CPU = '0'
export const CLIENT_CPU = '1'

const tasksetPath = Bun.which('taskset')
/** True when servers and generators run on different cores. */
export const pinned = tasksetPath !== null && cpus().length >= 2

/** Open-file limit asked for every child (10k held connections need more than the usual 1024). */
export const NOFILE = 65536

export interface Child {
  name: string
  pid: number
  proc: Bun.Subprocess<'pipe' | 'ignore', 'pipe' | Bun.BunFile, Bun.BunFile>
  logPath: string
  exited: Promise<number>
}

const children = new Set<Child>()

/**
 * Spawn `cmd` through `sh -c 'ulimit -n …; exec taskset -c CPU …'`; `exec` keeps the pid, so
 * /proc/<pid> is the program itself. Output goes to `logPath`.
 */
export function spawnPinned(
  name: string,
  cpu: string | null,
  cmd: string[],
  opts: {
    /** The whole environment (default: this process's). */
    env?: Record<string, string>
    logPath: string
    /** Pipe stdin and stdout (to talk to the child) instead of logging stdout to `logPath`. */
    pipe?: boolean
  },
): Child {
  const pin = pinned && cpu !== null ? ['taskset', '-c', cpu] : []
  rmSync(opts.logPath, { force: true })
  rmSync(`${opts.logPath}.err`, { force: true })
  const script = `ulimit -n ${NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`
  const proc = Bun.spawn(['sh', '-c', script, 'sh', ...pin, ...cmd], {
    env: opts.env ?? (process.env as Record<string, string>),
    stdout: opts.pipe ? 'pipe' : Bun.file(opts.logPath),
    stderr: Bun.file(`${opts.logPath}.err`),
    stdin: opts.pipe ? 'pipe' : 'ignore',
  })
  const child: Child = { name, pid: proc.pid, proc, logPath: opts.logPath, exited: proc.exited }
  children.add(child)
  void proc.exited.then(() => children.delete(child))
  return child
}

/** Wait until the child's log holds a line `LISTENING <url>`; returns the url. */
export async function waitListening(child: Child, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let exited = false
  void child.exited.then(() => (exited = true))
  while (Date.now() < deadline) {
    if (existsSync(child.logPath)) {
      const m = /^LISTENING (\S+)/m.exec(readFileSync(child.logPath, 'utf8'))
      if (m) return m[1]!
    }
    if (exited) break
    await Bun.sleep(50)
  }
  const err = existsSync(`${child.logPath}.err`) ? readFileSync(`${child.logPath}.err`, 'utf8').slice(-2000) : ''
  throw new Error(`${child.name} did not start (${exited ? 'it exited' : 'timeout'}); stderr:\n${err}`)
}

/** Stop one child: SIGINT, then SIGKILL if it has not exited after `graceMs`. */
export async function stop(child: Child, graceMs = 5000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return
  child.proc.kill('SIGINT')
  const done = await Promise.race([child.exited.then(() => true), Bun.sleep(graceMs).then(() => false)])
  if (!done) {
    child.proc.kill('SIGKILL')
    await child.exited
  }
}

/** Stop every child still running (used on exit and on errors). */
export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((c) => stop(c, 3000)))
}

/** Pin the calling process (the orchestrator) to the client core so it never competes with a server. */
export function pinSelf(): void {
  if (pinned) Bun.spawnSync(['taskset', '-cp', CLIENT_CPU, String(process.pid)])
}

/** Call `onLine` for every line the stream carries; resolves when it ends. */
export async function readLines(stream: ReadableStream<Uint8Array>, onLine: (line: string) => void): Promise<void> {
  const decoder = new TextDecoder()
  let buffer = ''
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true })
    let nl: number
    while ((nl = buffer.indexOf('\n')) >= 0) {
      onLine(buffer.slice(0, nl))
      buffer = buffer.slice(nl + 1)
    }
  }
  if (buffer) onLine(buffer)
}
