/**
 * @module bench/lib/abuse
 * `bun run bench --abuse`: the attacks of issue 13 (H1, H2, H3, M1, M2; bench/clients/abuse.ts)
 * against a running mcprag with its default limits and authentication on, one fresh server per
 * attack, pinned apart from the attacker. For each it reports the server's RSS growth (peak
 * during the attack, and what stays after a full GC) and /health latency while it runs (probed
 * every 20 ms from another process). Goals: growth ≤ 50 MB, /health p99 ≤ 50 ms. Writes
 * bench/out/abuse/results.json and ABUSE.md; BENCHMARKS.md is not touched.
 */
import type { FileSink } from 'bun'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { memory } from './proc.ts'
import { CLIENT_CPU, readLines, spawnPinned, stop, type Child } from './spawn.ts'
import { serverEnv, startServer } from './targets.ts'

export const ATTACKS = [
  { key: 'h1', finding: 'H1', what: '150 × initialize with 2.7 MB of capabilities' },
  { key: 'h1-sessions', finding: 'H1/M5', what: '3000 × initialize, then 150 with 15 KB of capabilities' },
  { key: 'h2', finding: 'H2', what: 'legacy SSE, 60 POSTs of a 4 MB unknown method name, stream read' },
  { key: 'h2-stalled', finding: 'H2', what: 'legacy SSE nobody reads, up to 600 echo replies of 100 KB' },
  { key: 'h3', finding: 'H3', what: '5 × 4 concurrent REST calls with 490k unknown keys (4.19 MB)' },
  { key: 'h3-within', finding: 'H3', what: '20 × 1 MiB of keys, then 200 × 4000 unknown keys, 4 at a time' },
  { key: 'm1', finding: 'M1', what: '3 × a 4 MB batch of 80 000 tools/list' },
  { key: 'm1-within', finding: 'M1', what: 'batches of 100 tools/list, 80 times' },
  { key: 'm2', finding: 'M2', what: 'one WebSocket, 50 000 tools/list' },
] as const

export const GOALS = { rssGrowthMb: 50, healthP99Ms: 50 }

export interface AbuseResult {
  key: string
  finding: string
  what: string
  baselineMb: number
  peakGrowthMb: number
  retainedGrowthMb: number
  health: { count: number; failures: number; p50: number; p99: number; max: number }
  attackSeconds: number
  statuses: Record<string, number>
  notes: Record<string, unknown>
  error?: string
}

const hex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')

function cli(args: string[], env: Record<string, string>): string {
  const r = Bun.spawnSync(['bun', 'src/cli.ts', ...args], { env: serverEnv(env) })
  if (r.exitCode !== 0) throw new Error(`mcprag ${args.join(' ')} failed: ${r.stderr.toString()}`)
  return r.stdout.toString().trim()
}

/** Spawn a pinned helper and wait for its first line `ready`. */
async function helper(name: string, cmd: string[], logPath: string, ready: string): Promise<{ child: Child; lines: string[] }> {
  const child = spawnPinned(name, CLIENT_CPU, cmd, { logPath, pipe: true })
  const lines: string[] = []
  void readLines(child.proc.stdout as ReadableStream<Uint8Array>, (line) => lines.push(line))
  const deadline = Date.now() + 120_000
  while (!lines.includes(ready)) {
    if (Date.now() > deadline || child.proc.exitCode !== null) throw new Error(`${name} did not get ready`)
    await Bun.sleep(20)
  }
  return { child, lines }
}

function tell(child: Child, line: string): void {
  const stdin = child.proc.stdin as FileSink
  stdin.write(`${line}\n`)
  stdin.flush()
}

async function waitLine(lines: string[], prefix: string, child: Child, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const line = lines.find((l) => l.startsWith(prefix))
    if (line) return line.slice(prefix.length)
    if (Date.now() > deadline) throw new Error(`no ${prefix.trim()} within ${timeoutMs / 1000} s`)
    if (child.proc.exitCode !== null) throw new Error(`exited (${child.proc.exitCode}) before ${prefix.trim()}`)
    await Bun.sleep(20)
  }
}

async function settledRssMb(pid: number): Promise<number> {
  await Bun.sleep(1000)
  process.kill(pid, 'SIGUSR2')
  await Bun.sleep(1500)
  return memory(pid)!.rssKb / 1024
}

async function runOne(attack: (typeof ATTACKS)[number], runDir: string, log: (s: string) => void): Promise<AbuseResult> {
  const dataDir = `${process.cwd()}/bench/out/abuse-data-${attack.key}`
  rmSync(dataDir, { recursive: true, force: true })
  // Authentication on, every limit at its default: what the issue's account would meet.
  const env: Record<string, string> = { MCPRAG_AUTH: 'on', MCPRAG_DATA_DIR: dataDir, MCPRAG_JWT_SECRET: hex(), MCPRAG_TOTP_KEY: hex() }
  const { child: server, url } = await startServer(`abuse-${attack.key}`, ['bun', 'bench/servers/mcprag.ts'], env, runDir)
  const result: AbuseResult = { key: attack.key, finding: attack.finding, what: attack.what, baselineMb: NaN, peakGrowthMb: NaN, retainedGrowthMb: NaN, health: { count: 0, failures: 0, p50: NaN, p99: NaN, max: NaN }, attackSeconds: NaN, statuses: {}, notes: {} }
  const helpers: Child[] = []
  try {
    const cliEnv = { ...env, MCPRAG_PUBLIC_URL: url }
    cli(['user', 'create', 'pub@example.com', '--tier', 'public'], cliEnv)
    const token = cli(['user', 'token', 'pub@example.com', '--ttl', '1d'], cliEnv).split('\n').pop()!
    // Niced: the /health probe shares the client core and must not wait behind the attacker.
    const attacker = await helper(`abuse-client-${attack.key}`, ['nice', '-n', '10', 'bun', 'bench/clients/abuse.ts', attack.key, url, token], `${runDir}/abuse-client-${attack.key}`, 'READY')
    helpers.push(attacker.child)
    result.baselineMb = await settledRssMb(server.pid)
    const probe = await helper(`health-${attack.key}`, ['bun', 'bench/clients/health-probe.ts', url], `${runDir}/health-${attack.key}`, 'PROBING')
    helpers.push(probe.child)
    let peakKb = 0
    const sampler = setInterval(() => (peakKb = Math.max(peakKb, memory(server.pid)?.rssKb ?? 0)), 20)
    tell(attacker.child, 'go')
    const outcome = JSON.parse(await waitLine(attacker.lines, 'RESULT ', attacker.child, 300_000)) as { statuses: Record<string, number>; notes: Record<string, unknown>; seconds: number }
    await Bun.sleep(500)
    clearInterval(sampler)
    tell(probe.child, 'stop')
    result.health = JSON.parse(await waitLine(probe.lines, 'HEALTH ', probe.child, 10_000)) as AbuseResult['health']
    result.statuses = outcome.statuses
    result.notes = outcome.notes
    result.attackSeconds = outcome.seconds
    result.peakGrowthMb = peakKb / 1024 - result.baselineMb
    result.retainedGrowthMb = (await settledRssMb(server.pid)) - result.baselineMb
  } catch (err) {
    result.error = (err as Error).message
    log(`  ${attack.key} failed: ${result.error}`)
  } finally {
    for (const h of helpers) await stop(h, 2000)
    await stop(server)
    rmSync(dataDir, { recursive: true, force: true })
  }
  return result
}

const mb = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–')
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(1) : '–')

export function renderAbuse(results: AbuseResult[], meta: { date: string; git: string; machine: string }): string {
  // What the server keeps is the memory an attacker can exhaust; the peak adds the garbage of the
  // bodies it handled, which the next collection frees (both are shown).
  const ok = (r: AbuseResult) => !r.error && r.retainedGrowthMb <= GOALS.rssGrowthMb && r.health.p99 <= GOALS.healthP99Ms
  const rows = results.map(
    (r) =>
      `| ${r.finding} | ${r.what} | ${mb(r.peakGrowthMb)} | ${mb(r.retainedGrowthMb)} | ${ms(r.health.p99)} | ${ms(r.health.max)} | ${r.health.count}${r.health.failures ? ` (${r.health.failures} failed)` : ''} | ${Object.entries(r.statuses).map(([s, n]) => `${n}×${s}`).join(', ')}${Object.keys(r.notes).length ? `; ${Object.entries(r.notes).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(', ')}` : ''} | ${r.error ? `error: ${r.error}` : ok(r) ? 'yes' : '**no**'} |`,
  )
  return [
    '# Abuse benchmark (issue 13)',
    '',
    `\`bun run bench --abuse\`, ${meta.date}, git ${meta.git}, ${meta.machine}. One fresh server per attack (authentication on, every limit at its default), pinned to core 0; the attacker (one public-tier account, bench/clients/abuse.ts) and a /health probe every 20 ms (bench/clients/health-probe.ts) on core 1. RSS growth: the server's resident set during the attack (peak, sampled every 20 ms: it includes garbage not yet collected) and after a full GC (retained), above the baseline after a GC before the attack. Goals: retained growth ≤ ${GOALS.rssGrowthMb} MB and /health p99 ≤ ${GOALS.healthP99Ms} ms; the attacks are short, so p99 is close to the worst probe (max).`,
    '',
    '| Finding | Attack | RSS growth, peak (MB) | retained (MB) | /health p99 (ms) | max (ms) | probes | Answers the attacker got | Goals met (retained, p99) |',
    '|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n')
}

export async function runAbuse(opts: { runDir: string; outDir: string; only?: string[]; git: string; machine: string; log: (s: string) => void }): Promise<AbuseResult[]> {
  mkdirSync(opts.runDir, { recursive: true })
  mkdirSync(opts.outDir, { recursive: true })
  const results: AbuseResult[] = []
  for (const attack of ATTACKS) {
    if (opts.only && !opts.only.includes(attack.key)) continue
    opts.log(`abuse: ${attack.finding} ${attack.key}: ${attack.what}`)
    const r = await runOne(attack, opts.runDir, opts.log)
    opts.log(`  RSS +${mb(r.peakGrowthMb)} MB peak, +${mb(r.retainedGrowthMb)} MB retained; /health p99 ${ms(r.health.p99)} ms, max ${ms(r.health.max)} ms; ${JSON.stringify(r.statuses)} ${JSON.stringify(r.notes)}`)
    results.push(r)
  }
  const meta = { date: new Date().toISOString(), git: opts.git, machine: opts.machine }
  writeFileSync(`${opts.outDir}/results.json`, JSON.stringify({ ...meta, goals: GOALS, results }, null, 2))
  writeFileSync(`${opts.outDir}/ABUSE.md`, renderAbuse(results, meta))
  return results
}
