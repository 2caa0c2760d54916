/**
 * @module bench/lib/scale-out
 * What issue 9 measures on top of the throughput table, in the same run:
 * - a Redis of the run's own (so its command counters count only mcprag's commands);
 * - the cross-instance notification latency (`bench/clients/hub-hop.ts`: two processes, mcprag's
 *   Redis streams, one writing and one following a session's stream);
 * - Redis commands per `tools/call`, read from Redis itself (`INFO commandstats` before and after a
 *   measured window) for the targets that keep their state in Redis;
 * - three instances behind nginx against one instance behind the same nginx settings.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { localNginxConfig } from '../../deploy/nginx-local.ts'
import { CLIENT_CPU, SERVER_CPU, readLines, spawnPinned, stop, type Child } from './spawn.ts'

export interface HopResult {
  events: number
  expected: number
  p50Us: number
  p90Us: number
  p99Us: number
  maxUs: number
}

export interface NginxRow {
  instances: number
  rps: number
  p50Us: number
  p99Us: number
  errors: number
  /** Redis commands per request over the window. */
  redisPerCall: number
}

export interface ScaleOutResult {
  status: 'ok' | 'skipped' | 'failed'
  reason?: string
  redisVersion?: string
  hop?: HopResult
  nginx?: { rounds: NginxRow[][]; connections: number; seconds: number }
}

const has = (cmd: string) => Bun.spawnSync(['sh', '-c', `command -v ${cmd} || test -x /usr/sbin/${cmd}`]).exitCode === 0

export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

export interface BenchRedis {
  url: string
  port: number
  child: Child
  version: string
}

/** A Redis for this run only, pinned with the servers. Undefined when redis-server is missing. */
export async function startBenchRedis(runDir: string): Promise<BenchRedis | undefined> {
  if (!has('redis-server')) return undefined
  const port = freePort()
  const child = spawnPinned('redis', SERVER_CPU, ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', runDir], {
    logPath: `${runDir}/redis.log`,
  })
  for (let i = 0; i < 100; i++) {
    if (redisCli(port, 'PING') === 'PONG') {
      const version = /redis_version:(\S+)/.exec(redisCli(port, 'INFO', 'server'))?.[1] ?? '?'
      return { url: `redis://127.0.0.1:${port}`, port, child, version }
    }
    await Bun.sleep(50)
  }
  await stop(child)
  return undefined
}

export function redisCli(port: number, ...args: string[]): string {
  return Bun.spawnSync(['redis-cli', '-p', String(port), ...args]).stdout.toString().trim()
}

/** Total commands Redis has run (every `cmdstat_*` calls=), and per command. */
export function commandCount(port: number): { total: number; byCommand: Record<string, number> } {
  const byCommand: Record<string, number> = {}
  let total = 0
  for (const m of redisCli(port, 'INFO', 'commandstats').matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    const n = Number(m[2])
    byCommand[m[1]!] = n
    total += n
  }
  return { total, byCommand }
}

/** Cross-instance latency: a follower process and a writer process on the two cores. */
export async function measureHop(redis: BenchRedis, runDir: string, count: number): Promise<HopResult> {
  const session = crypto.randomUUID()
  const args = [redis.url, 'hop:', session, String(count)]
  const follower = spawnPinned('hop-follower', SERVER_CPU, ['bun', 'bench/clients/hub-hop.ts', 'follower', ...args], { logPath: `${runDir}/hop-follower`, pipe: true })
  let json = ''
  let ready: () => void
  const isReady = new Promise<void>((r) => (ready = r))
  const lines = readLines(follower.proc.stdout as ReadableStream<Uint8Array>, (line) => {
    if (line === 'READY') ready()
    else if (line.startsWith('BENCH_JSON ')) json = line.slice(11)
  })
  await Promise.race([isReady, Bun.sleep(15_000)])
  const writer = spawnPinned('hop-writer', CLIENT_CPU, ['bun', 'bench/clients/hub-hop.ts', 'writer', ...args, '1'], { logPath: `${runDir}/hop-writer.log` })
  await writer.exited
  await lines
  await follower.exited
  if (!json) throw new Error(`the hop follower reported nothing: ${readFileSync(`${runDir}/hop-follower.err`, 'utf8').slice(-500)}`)
  return JSON.parse(json) as HopResult
}

export interface Instances {
  urls: string[]
  children: Child[]
}

/** `n` mcprag instances sharing `redis`, all pinned with the servers. */
export async function startInstances(n: number, redis: BenchRedis, runDir: string, env: Record<string, string>, start: (name: string, env: Record<string, string>) => Promise<{ child: Child; url: string }>): Promise<Instances> {
  const shared = {
    REDIS_URL: redis.url,
    MCPRAG_REDIS_PREFIX: `bench-cluster:${crypto.randomUUID().slice(0, 8)}:`,
    MCPRAG_SECRET: hex(),
    MCPRAG_PUBLIC_URL: 'http://127.0.0.1:1',
    ...env,
  }
  const started = await Promise.all(Array.from({ length: n }, (_, i) => start(`cluster-${i}`, shared)))
  void runDir
  return { urls: started.map((s) => s.url), children: started.map((s) => s.child) }
}

export const hex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')

/** nginx (deploy/nginx.conf's settings) in front of `upstreams`, pinned with the servers. */
export async function startNginx(name: string, upstreams: string[], runDir: string): Promise<{ url: string; child: Child } | undefined> {
  if (!has('nginx')) return undefined
  // Absolute: nginx reads every path of its configuration relative to its own prefix.
  const dir = resolve(runDir, name)
  mkdirSync(dir, { recursive: true })
  for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) mkdirSync(join(dir, d), { recursive: true })
  const port = freePort()
  writeFileSync(join(dir, 'nginx.conf'), localNginxConfig({ dir, listen: port, upstreams: upstreams.map((u) => Number(new URL(u).port)) }))
  const bin = has('nginx') && Bun.spawnSync(['sh', '-c', 'command -v nginx']).exitCode === 0 ? 'nginx' : '/usr/sbin/nginx'
  const child = spawnPinned(name, SERVER_CPU, [bin, '-p', dir, '-c', join(dir, 'nginx.conf')], { logPath: join(dir, 'stdout.log') })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${url}/health`).catch(() => undefined))?.status === 200) return { url, child }
    await Bun.sleep(50)
  }
  await stop(child)
  throw new Error(`nginx ${name} did not start: ${readFileSync(join(dir, 'error.log'), 'utf8').slice(-500)}`)
}

export interface ScaleOutContext {
  runDir: string
  rounds: number
  seconds: number
  connections: number
  hopEvents: number
  log(s: string): void
  /** Start one mcprag (bench/servers/mcprag.ts) with this environment. */
  startMcprag(name: string, env: Record<string, string>): Promise<{ child: Child; url: string }>
  openSession(url: string): Promise<string>
  wrk(url: string, sessionId: string, seconds: number): Promise<{ requests: number; durationS: number; p50Us: number; p99Us: number; errors: number }>
}

/** The cross-instance rows: hop latency, and 3 instances vs 1 behind nginx, on the run's Redis. */
export async function measureScaleOut(redis: BenchRedis | undefined, c: ScaleOutContext): Promise<ScaleOutResult> {
  if (!redis) return { status: 'skipped', reason: 'no redis-server on this machine (apt-get install redis-server)' }
  const result: ScaleOutResult = { status: 'ok', redisVersion: redis.version }
  try {
    c.log(`cross-instance notification latency (${c.hopEvents} events, 1 per ms)`)
    result.hop = await measureHop(redis, c.runDir, c.hopEvents)
    c.log(`  p50 ${(result.hop.p50Us / 1000).toFixed(3)} ms, p99 ${(result.hop.p99Us / 1000).toFixed(3)} ms over ${result.hop.events} events`)
  } catch (err) {
    c.log(`  hop failed: ${(err as Error).message}`)
  }
  if (!has('nginx')) return { ...result, reason: 'nginx is missing (apt-get install nginx-light): the instances-behind-nginx rows were not measured' }
  const children: Child[] = []
  try {
    const instances = await startInstances(3, redis, c.runDir, { MCPRAG_AUTH: 'off', MCPRAG_AUDIT_STDOUT: 'off' }, c.startMcprag)
    children.push(...instances.children)
    const proxies: { n: number; url: string; session: string }[] = []
    for (const [n, upstreams] of [[1, instances.urls.slice(0, 1)], [3, instances.urls]] as const) {
      const proxy = await startNginx(`nginx-${n}`, [...upstreams], c.runDir)
      if (!proxy) throw new Error('nginx did not start')
      children.push(proxy.child)
      proxies.push({ n, url: proxy.url, session: await c.openSession(proxy.url) })
    }
    for (const p of proxies) await c.wrk(p.url, p.session, 1)
    const rounds: NginxRow[][] = []
    for (let round = 1; round <= c.rounds; round++) {
      const row: NginxRow[] = []
      for (const p of round % 2 ? proxies : [...proxies].reverse()) {
        const before = commandCount(redis.port).total
        const w = await c.wrk(p.url, p.session, c.seconds)
        const commands = commandCount(redis.port).total - before - 1
        row.push({ instances: p.n, rps: w.requests / w.durationS, p50Us: w.p50Us, p99Us: w.p99Us, errors: w.errors, redisPerCall: commands / w.requests })
        c.log(`  round ${round} nginx → ${p.n} instance(s): ${(w.requests / w.durationS).toFixed(0)} req/s, p99 ${(w.p99Us / 1000).toFixed(2)} ms, ${(commands / w.requests).toFixed(3)} Redis commands per call`)
      }
      rounds.push(row.sort((a, b) => a.instances - b.instances))
    }
    result.nginx = { rounds, connections: c.connections, seconds: c.seconds }
  } catch (err) {
    result.status = 'failed'
    result.reason = (err as Error).message.split('\n')[0]
    c.log(`  the instances-behind-nginx rows failed: ${result.reason}`)
  } finally {
    for (const child of children) await stop(child)
  }
  return result
}
