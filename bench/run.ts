/**
 * `bun run bench`: the benchmark suite of issue 6. It starts every server itself (127.0.0.1 only,
 * pinned to core 0), drives them with wrk (installed with apt-get when missing; pinned to core 1),
 * interleaves the targets round by round so every comparison is a ratio taken in the same run,
 * measures idle memory per held stream, profiles mcprag with `bun --cpu-prof`, and writes
 * BENCHMARKS.md plus the raw outputs.
 *
 *   bun run bench                 full run (≈ 9–11 min): writes BENCHMARKS.md and bench/out/report/,
 *                                 then the code-retrieval section (bench/rag.ts; --no-rag skips it)
 *   bun run bench --quick         short development run: writes bench/out/quick/ only
 *   bun run bench --render        re-render BENCHMARKS.md from bench/out/report/results.json (after
 *                                 editing bench/analysis.md) without measuring again
 *   bun run bench --abuse         the attacks of issue 13 (bench/lib/abuse.ts): RSS growth and
 *                                 /health latency under each; writes bench/out/abuse/ only
 *                                 (--only h1,m2 picks attacks)
 *   options: --rounds N --seconds S --warmup S --connections C --only key,key --ws-sockets N
 *            --no-memory --no-profile --memory-steps 1000,5000,10000 --profile-seconds S --out PATH
 */
import type { FileSink } from 'bun'
import { cpus, totalmem } from 'node:os'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { analyseProfile, trimProfile } from './lib/profile.ts'
import { clkTck, cpuMicros, loadAverage, machineCpu, memory } from './lib/proc.ts'
import { runAbuse } from './lib/abuse.ts'
import { renderReport } from './lib/report.ts'
import { runRagBench } from './rag.ts'
import { renderRag, spliceRag, type RagResults } from './rag/report.ts'
import type { MemoryResult, Options, ProfileResult, Results, RunInfo, Sample, TargetResult } from './lib/results.ts'
import { CLIENT_CPU, pinned, pinSelf, readLines, spawnPinned, stop, stopAll, type Child } from './lib/spawn.ts'
import {
  BASE_HEADERS,
  ECHO_BODY,
  MCPRAG_ENV,
  TARGETS,
  nodeVersion,
  openSession,
  packageVersion,
  startServer,
  validate,
  benchRedisPort,
  useBenchRedis,
  type HttpTarget,
  type Target,
  type WsTarget,
} from './lib/targets.ts'
import { commandCount, measureScaleOut, startBenchRedis, type BenchRedis } from './lib/scale-out.ts'
import { ensureWrk, runWrk, writeScript, wrkVersion } from './lib/wrk.ts'

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2)
const flag = (name: string) => argv.includes(`--${name}`)
const option = (name: string): string | undefined => {
  const i = argv.indexOf(`--${name}`)
  if (i >= 0) return argv[i + 1]
  return argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3)
}
const quick = flag('quick')
const opts: Options = {
  quick,
  rounds: Number(option('rounds') ?? (quick ? 2 : 5)),
  seconds: Number(option('seconds') ?? (quick ? 2 : 5)),
  warmup: Number(option('warmup') ?? (quick ? 1 : 3)),
  connections: Number(option('connections') ?? 50),
  wsSockets: Number(option('ws-sockets') ?? 50),
  only: option('only')?.split(','),
  memory: !flag('no-memory'),
  memorySteps: (option('memory-steps') ?? (quick ? '200,500,1000' : '1000,5000,10000')).split(',').map(Number),
  profile: !flag('no-profile'),
  profileSeconds: Number(option('profile-seconds') ?? (quick ? 2 : 6)),
}
const outDir = quick ? 'bench/out/quick' : 'bench/out/report'
const reportPath = option('out') ?? (quick ? `${outDir}/BENCHMARKS.md` : 'BENCHMARKS.md')
const stamp = new Date().toISOString().replace(/[:.]/g, '-')
const runDir = `bench/out/runs/${stamp}`

// ---------------------------------------------------------------- helpers

const log = (s: string) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`)

function sh(cmd: string[]): string {
  const r = Bun.spawnSync(cmd)
  return r.exitCode === 0 ? r.stdout.toString().trim() : ''
}

function runInfo(): Omit<RunInfo, 'durationS' | 'loadEnd'> {
  const cpuModel = cpus()[0]?.model ?? 'unknown'
  const osRelease = existsSync('/etc/os-release') ? /^PRETTY_NAME="?([^"\n]+)/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] : undefined
  const head = sh(['git', 'rev-parse', '--short', 'HEAD'])
  const dirty = sh(['git', 'status', '--porcelain', '--untracked-files=no', '--', 'src']) !== ''
  return {
    date: new Date().toISOString(),
    machine: {
      cpu: cpuModel,
      cores: cpus().length,
      memGb: Math.round((totalmem() / 2 ** 30) * 10) / 10,
      kernel: sh(['uname', '-r']),
      os: osRelease ?? process.platform,
    },
    versions: {
      bun: Bun.version,
      node: nodeVersion().replace('Node ', ''),
      wrk: wrkVersion(),
      mcprag: (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version,
      elysia: packageVersion('elysia'),
      '@modelcontextprotocol/sdk': packageVersion('@modelcontextprotocol/sdk'),
      express: packageVersion('express'),
    },
    git: head ? `${head}${dirty ? ' (src/ modified)' : ''}` : 'unknown',
    pinned,
    loadStart: loadAverage(),
    options: opts,
    command: `bun run bench ${argv.join(' ')}`.trim(),
  }
}

function window(pid: number) {
  return { cpu: cpuMicros(pid) ?? NaN, machine: machineCpu(), at: performance.now() }
}
function backgroundCores(a: ReturnType<typeof window>, b: ReturnType<typeof window>, ourUs: number, windowUs: number): number {
  const busyUs = ((b.machine.busy - a.machine.busy) * 1e6) / clkTck()
  return Math.max(0, busyUs - ourUs) / windowUs
}

// ---------------------------------------------------------------- HTTP targets

interface Running {
  target: Target
  result: TargetResult
  child: Child
  url: string
  /** HTTP: the wrk script. */
  script?: string
  /** WS: the socket URL. */
  wsUrl?: string
}

async function measureHttp(r: Running, round: number, seconds: number): Promise<Sample> {
  const redisPort = (r.target as HttpTarget).redis ? benchRedisPort() : undefined
  const before = redisPort === undefined ? undefined : commandCount(redisPort)
  const a = window(r.child.pid)
  const w = await runWrk(`${r.url}/mcp`, r.script!, opts.connections, seconds)
  const b = window(r.child.pid)
  const after = redisPort === undefined ? undefined : commandCount(redisPort)
  writeFileSync(`${runDir}/${r.target.key}.round${round}.wrk.txt`, w.raw)
  const serverUs = b.cpu - a.cpu
  const windowUs = w.durationS * 1e6
  const errors = w.errors.connect + w.errors.read + w.errors.write + w.errors.status + w.errors.timeout
  return {
    round,
    requests: w.requests,
    durationS: w.durationS,
    rps: w.requests / w.durationS,
    cpuUsPerReq: serverUs / w.requests,
    serverCores: serverUs / windowUs,
    generatorCores: w.generatorCpuUs / w.wallUs,
    backgroundCores: backgroundCores(a, b, serverUs + w.generatorCpuUs, (b.at - a.at) * 1000),
    p50Us: w.latencyUs.p50,
    p90Us: w.latencyUs.p90,
    p99Us: w.latencyUs.p99,
    maxUs: w.latencyUs.max,
    errors,
    // INFO commandstats itself counts as one command each time it is read.
    redisPerCall: before && after ? (after.total - before.total - 1) / w.requests : undefined,
  }
}

async function measureWs(r: Running, round: number, seconds: number, warmup: number): Promise<Sample> {
  const client = spawnPinned(`ws-load-${round}`, CLIENT_CPU, ['bun', 'bench/clients/ws-load.ts', r.wsUrl!, String(opts.wsSockets), String(warmup), String(seconds)], {
    logPath: `${runDir}/${r.target.key}.round${round}.ws`,
    pipe: true,
  })
  let a: ReturnType<typeof window> | undefined
  let b: ReturnType<typeof window> | undefined
  let ca = 0
  let cb = 0
  let json = ''
  const out: string[] = []
  await readLines(client.proc.stdout as ReadableStream<Uint8Array>, (line) => {
    out.push(line)
    if (line === 'MEASURE_START') {
      a = window(r.child.pid)
      ca = cpuMicros(client.pid) ?? 0
    } else if (line === 'MEASURE_END') {
      b = window(r.child.pid)
      cb = cpuMicros(client.pid) ?? 0
    } else if (line.startsWith('BENCH_JSON ')) json = line.slice(11)
  })
  const code = await client.exited
  writeFileSync(`${runDir}/${r.target.key}.round${round}.ws.txt`, out.join('\n'))
  if (code !== 0 || !json || !a || !b) throw new Error(`ws-load failed (exit ${code}): ${readFileSync(`${client.logPath}.err`, 'utf8').slice(-1000)}`)
  const j = JSON.parse(json) as { requests: number; duration_s: number; errors: number; p50: number; p90: number; p99: number; max: number }
  const serverUs = b.cpu - a.cpu
  const windowUs = j.duration_s * 1e6
  return {
    round,
    requests: j.requests,
    durationS: j.duration_s,
    rps: j.requests / j.duration_s,
    cpuUsPerReq: serverUs / j.requests,
    serverCores: serverUs / windowUs,
    generatorCores: (cb - ca) / windowUs,
    backgroundCores: backgroundCores(a, b, serverUs + (cb - ca), windowUs),
    p50Us: j.p50,
    p90Us: j.p90,
    p99Us: j.p99,
    maxUs: j.max,
    errors: j.errors,
  }
}

async function startTarget(t: Target): Promise<Running | TargetResult> {
  const result: TargetResult = {
    key: t.key,
    n: t.n,
    label: t.label,
    reference: t.reference ?? 'raw-bun',
    runtime: t.runtime(),
    reply: t.reply,
    status: 'ok',
    samples: [],
  }
  let child: Child | undefined
  try {
    const started = await startServer(t.key, t.cmd(), t.env, runDir)
    child = started.child
    const { url } = started
    if (t.kind === 'http') {
      const prepared = await (t as HttpTarget).prepare(url)
      if ('skip' in prepared) {
        await stop(child)
        return { ...result, status: 'skipped', reason: prepared.skip }
      }
      await validate(url, prepared, t.reply as 'JSON' | 'SSE')
      const script = `${runDir}/${t.key}.lua`
      writeScript(script, prepared.body, { ...BASE_HEADERS, ...prepared.headers })
      result.note = prepared.note
      return { target: t, result, child, url, script }
    }
    const ws = await (t as WsTarget).prepare(url)
    if ('skip' in ws) {
      await stop(child)
      return { ...result, status: 'skipped', reason: ws.skip }
    }
    return { target: t, result, child, url, wsUrl: ws.wsUrl }
  } catch (err) {
    if (child) await stop(child)
    return { ...result, status: 'failed', reason: (err as Error).message.split('\n')[0] }
  }
}

async function throughput(): Promise<TargetResult[]> {
  const chosen = TARGETS.filter((t) => !opts.only || opts.only.includes(t.key))
  const running: Running[] = []
  const results = new Map<string, TargetResult>()
  for (const t of chosen) {
    log(`starting target ${t.n} (${t.key})`)
    const r = await startTarget(t)
    if ('target' in r) {
      running.push(r)
      results.set(t.key, r.result)
    } else {
      log(`  ${r.status}: ${r.reason}`)
      results.set(t.key, r)
    }
  }
  for (const r of running) {
    log(`warm-up ${r.target.key} (${opts.warmup}s)`)
    if (r.script) await runWrk(`${r.url}/mcp`, r.script, opts.connections, opts.warmup)
  }
  for (let round = 1; round <= opts.rounds; round++) {
    // Rotate the order every round so no target always runs first or right after a given other.
    const order = running.map((_, i) => running[(i + round - 1) % running.length]!)
    for (const r of order) {
      try {
        const s = r.script ? await measureHttp(r, round, opts.seconds) : await measureWs(r, round, opts.seconds, Math.min(1, opts.warmup))
        r.result.samples.push(s)
        log(
          `round ${round}/${opts.rounds} ${r.target.key.padEnd(20)} ${s.rps.toFixed(0).padStart(7)} req/s  ${s.cpuUsPerReq.toFixed(1).padStart(7)} µs/req  ` +
            `p50 ${(s.p50Us / 1000).toFixed(2)} ms  p99 ${(s.p99Us / 1000).toFixed(2)} ms  server ${s.serverCores.toFixed(2)} cores  gen ${s.generatorCores.toFixed(2)}  other ${s.backgroundCores.toFixed(2)}${s.errors ? `  ERRORS ${s.errors}` : ''}`,
        )
      } catch (err) {
        log(`round ${round} ${r.target.key} failed: ${(err as Error).message}`)
      }
    }
  }
  for (const r of running) {
    r.result.peakRssKb = memory(r.child.pid)?.hwmKb
    await stop(r.child)
    if (r.result.samples.length === 0) {
      r.result.status = 'failed'
      r.result.reason ??= 'no round completed'
    }
  }
  return chosen.map((t) => results.get(t.key)!)
}

// ---------------------------------------------------------------- scale-out (issue 9)

function scaleOutContext() {
  return {
    runDir,
    rounds: opts.rounds,
    seconds: opts.seconds,
    connections: opts.connections,
    hopEvents: quick ? 2000 : 10_000,
    log,
    startMcprag: (name: string, env: Record<string, string>) => startServer(name, ['bun', 'bench/servers/mcprag.ts'], env, runDir),
    openSession: (url: string) => openSession(url),
    async wrk(url: string, sessionId: string, seconds: number) {
      const script = `${runDir}/scale-out-${new URL(url).port}.lua`
      writeScript(script, ECHO_BODY, { ...BASE_HEADERS, 'mcp-session-id': sessionId })
      const w = await runWrk(`${url}/mcp`, script, opts.connections, seconds)
      const errors = w.errors.connect + w.errors.read + w.errors.write + w.errors.status + w.errors.timeout
      return { requests: w.requests, durationS: w.durationS, p50Us: w.latencyUs.p50, p99Us: w.latencyUs.p99, errors }
    },
  }
}

// ---------------------------------------------------------------- idle memory

const MEMORY_TRANSPORTS: { transport: string; server: 'mcprag' | 'raw'; label: string; targetKb?: number }[] = [
  { transport: 'streamable', server: 'mcprag', label: 'mcprag, Streamable HTTP: session + GET /mcp SSE stream', targetKb: 5 },
  { transport: 'sse', server: 'mcprag', label: 'mcprag, legacy HTTP+SSE: GET /sse stream', targetKb: 5 },
  { transport: 'ws', server: 'mcprag', label: 'mcprag, WebSocket /mcp/ws (initialized)', targetKb: 3 },
  { transport: 'sse', server: 'raw', label: 'floor: bare `Bun.serve` holding an SSE response' },
  { transport: 'ws', server: 'raw', label: 'floor: bare `Bun.serve` holding a WebSocket' },
]

async function probeTransport(url: string, transport: string): Promise<string | undefined> {
  if (transport === 'streamable') return undefined
  if (transport === 'sse') {
    const ctrl = new AbortController()
    const res = await fetch(`${url}/sse`, { headers: { accept: 'text/event-stream' }, signal: ctrl.signal }).catch(() => undefined)
    ctrl.abort()
    const ok = res?.status === 200 && (res.headers.get('content-type') ?? '').startsWith('text/event-stream')
    return ok ? undefined : `not yet available: the legacy HTTP+SSE transport (issue 3, GET /sse) is not built — GET /sse answered ${res?.status ?? 'nothing'}`
  }
  const ws = TARGETS.find((t) => t.key === 'mcprag-ws') as WsTarget
  const r = await ws.prepare(url)
  return 'skip' in r ? r.skip : undefined
}

async function idleMemory(): Promise<MemoryResult[]> {
  const out: MemoryResult[] = []
  for (const m of MEMORY_TRANSPORTS) {
    const result: MemoryResult = { transport: m.transport, server: m.server, label: m.label, targetKb: m.targetKb, status: 'ok', steps: [] }
    out.push(result)
    let server: { child: Child; url: string } | undefined
    let holder: Child | undefined
    try {
      log(`idle memory: ${m.label}`)
      const entry = m.server === 'raw' ? 'bench/servers/raw-bun.ts' : 'bench/servers/mcprag.ts'
      server = await startServer(`memory-${m.server}-${m.transport}`, ['bun', entry], m.server === 'raw' ? {} : MCPRAG_ENV, runDir)
      const skip = await probeTransport(server.url, m.transport)
      if (skip) {
        result.status = 'skipped'
        result.reason = skip
        log(`  skipped: ${skip}`)
        continue
      }
      // Warm the server (JIT, pools) with a short load on one session, then take the baseline.
      const session = m.server === 'raw' ? 'none' : await openSession(server.url)
      const script = `${runDir}/memory-${m.server}-${m.transport}.lua`
      writeScript(script, ECHO_BODY, { ...BASE_HEADERS, 'mcp-session-id': session })
      await runWrk(`${server.url}/mcp`, script, 10, 1)
      const settle = async () => {
        await Bun.sleep(1500)
        server!.child.proc.kill('SIGUSR2')
        await Bun.sleep(1500)
        return memory(server!.child.pid)!.rssKb
      }
      const baseline = await settle()
      result.baselineKb = baseline
      holder = spawnPinned(`holder-${m.server}-${m.transport}`, CLIENT_CPU, ['bun', 'bench/clients/hold-streams.ts', m.transport, server.url], {
        logPath: `${runDir}/holder-${m.server}-${m.transport}`,
        pipe: true,
      })
      const replies: string[] = []
      let wake: () => void = () => {}
      void readLines(holder.proc.stdout as ReadableStream<Uint8Array>, (line) => {
        replies.push(line)
        wake()
      })
      const ask = async (cmd: string, timeoutMs: number): Promise<string> => {
        const stdin = holder!.proc.stdin as FileSink
        stdin.write(`${cmd}\n`)
        stdin.flush()
        const deadline = Date.now() + timeoutMs
        while (replies.length === 0) {
          if (Date.now() > deadline) throw new Error(`the holder did not answer "${cmd}" within ${timeoutMs / 1000} s`)
          await Promise.race([new Promise<void>((r) => (wake = r)), Bun.sleep(500)])
        }
        return replies.shift()!
      }
      let prev = { connections: 0, rssKb: baseline }
      for (const n of opts.memorySteps) {
        const reply = await ask(`open ${n}`, 300_000)
        const [, total, failures, ...why] = reply.split(' ')
        if (Number(failures) > 0 || Number(total) !== n) throw new Error(`opened ${total} of ${n} connections, ${failures} failed: ${why.join(' ')}`)
        const rss = await settle()
        const step = { connections: n, rssKb: rss, perConnKb: (rss - baseline) / n, marginalKb: (rss - prev.rssKb) / (n - prev.connections) }
        result.steps.push(step)
        log(`  ${n} held: RSS ${(rss / 1024).toFixed(1)} MB, ${step.perConnKb.toFixed(2)} KB per connection (marginal ${step.marginalKb.toFixed(2)} KB)`)
        prev = step
      }
    } catch (err) {
      result.status = 'failed'
      result.reason = (err as Error).message.split('\n')[0]
      log(`  failed: ${result.reason}`)
    } finally {
      if (holder) {
        const stdin = holder.proc.stdin as FileSink
        try {
          stdin.write('exit\n')
          stdin.flush()
        } catch {
          // already gone
        }
        await Promise.race([holder.exited, Bun.sleep(5000)])
        await stop(holder)
      }
      if (server) await stop(server.child)
    }
  }
  return out
}

// ---------------------------------------------------------------- profile

const INTERESTING = [
  'post@streamable-http', '#answer@streamable-http', '#session@streamable-http', '#stream@streamable-http', 'json@streamable-http',
  'check@http-guard', 'acceptsAll@http-guard', 'readBody@http-guard', 'classify@jsonrpc', 'handleRequest@mcp-server',
  'callTool@methods/tools', 'onToolCall@audit', 'appendAudit@store', 'authenticate@auth', 'take@rate-limit', 'attach@stream-hub', 'write@stream-hub',
]

const PROFILED = [
  { key: 'raw-bun', marker: 'bench/servers/raw-bun.ts' },
  { key: 'mcprag', marker: 'src/transports/' },
  { key: 'mcprag-sse', marker: 'src/transports/' },
  { key: 'mcprag-auth', marker: 'src/transports/' },
] as const

async function profileTarget(key: string, marker: string): Promise<ProfileResult | undefined> {
  const t = TARGETS.find((x) => x.key === key) as HttpTarget
  const dir = `${runDir}/profile`
  mkdirSync(dir, { recursive: true })
  log(`profiling ${key} with bun --cpu-prof (${opts.profileSeconds}s of load)`)
  const { child, url } = await startServer(`profile-${key}`, t.cmd(), t.env, runDir, ['--cpu-prof', '--cpu-prof-md', `--cpu-prof-dir=${dir}`, `--cpu-prof-name=${key}`])
  try {
    const prepared = await t.prepare(url)
    if ('skip' in prepared) {
      log(`  not profiled: ${prepared.skip}`)
      return undefined
    }
    const script = `${runDir}/profile-${key}.lua`
    writeScript(script, prepared.body, { ...BASE_HEADERS, ...prepared.headers })
    const c0 = cpuMicros(child.pid) ?? NaN
    const w = await runWrk(`${url}/mcp`, script, opts.connections, opts.profileSeconds)
    const c1 = cpuMicros(child.pid) ?? NaN
    await stop(child, 15_000)
    const files = readdirSync(dir).filter((f) => f.startsWith(key) && f.endsWith('.cpuprofile'))
    if (files.length === 0) throw new Error('no .cpuprofile was written')
    const file = `${dir}/${files[0]}`
    const md = readdirSync(dir).find((f) => f.startsWith(key) && f.endsWith('.md'))
    return {
      key,
      label: t.label,
      file,
      markdown: md ? `${dir}/${md}` : undefined,
      rps: w.requests / w.durationS,
      requests: w.requests,
      cpuUsPerReq: (c1 - c0) / w.requests,
      summary: analyseProfile(file, INTERESTING, marker),
    }
  } catch (err) {
    log(`  profile failed: ${(err as Error).message}`)
    return undefined
  } finally {
    await stop(child)
  }
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const t0 = performance.now()
  mkdirSync(runDir, { recursive: true })
  mkdirSync(outDir, { recursive: true })
  pinSelf()
  await ensureWrk(log)
  const info = runInfo()
  log(`run ${stamp}: ${info.machine.cpu} × ${info.machine.cores}, Bun ${Bun.version}, ${nodeVersion()}, wrk ${info.versions.wrk}; pinned: ${pinned}`)
  log(`building the Node peer (bench/peers/sdk-express.ts → bench/out/build/sdk-express.mjs)`)
  const build = Bun.spawnSync(['bun', 'build', 'bench/peers/sdk-express.ts', '--target=node', '--packages=external', '--outfile', 'bench/out/build/sdk-express.mjs'])
  if (build.exitCode !== 0) throw new Error(`building the Node peer failed: ${build.stderr.toString()}`)

  // One Redis for the whole run: target 5ʳ and the scale-out rows keep their state in it.
  const redis: BenchRedis | undefined = await startBenchRedis(runDir)
  useBenchRedis(redis)
  if (!redis) log('redis-server is missing: target 5ʳ and the scale-out rows are skipped')
  const targets = opts.rounds > 0 ? await throughput() : []
  const scaleOut = !opts.only || opts.only.includes('scale-out') ? await measureScaleOut(redis, scaleOutContext()) : undefined
  if (redis) await stop(redis.child)
  const memoryResults = opts.memory && !opts.only ? await idleMemory() : []
  const profiles: ProfileResult[] = []
  if (opts.profile && !opts.only) {
    for (const { key, marker } of PROFILED) {
      const p = await profileTarget(key, marker)
      if (p) profiles.push(p)
    }
  }
  const results: Results = {
    info: { ...info, durationS: (performance.now() - t0) / 1000, loadEnd: loadAverage() },
    targets,
    memory: memoryResults,
    profiles,
    scaleOut,
  }
  writeFileSync(`${runDir}/results.json`, JSON.stringify(results, null, 2))
  // Audit lines (target 5 writes one per call) make server logs large: keep their head only.
  for (const f of readdirSync(runDir).filter((f) => f.endsWith('.log'))) {
    const path = `${runDir}/${f}`
    const size = statSync(path).size
    if (size > 1 << 20) writeFileSync(path, `${readFileSync(path, 'utf8').slice(0, 4096)}\n… truncated by bench/run.ts (${size} bytes, mostly audit lines)\n`)
  }
  // What the committed report needs: the figures and the raw wrk/ws outputs of this run.
  rmSync(`${outDir}/raw`, { recursive: true, force: true })
  mkdirSync(`${outDir}/raw`, { recursive: true })
  for (const f of readdirSync(runDir).filter((f) => f.endsWith('.wrk.txt') || f.endsWith('.ws.txt'))) writeFileSync(`${outDir}/raw/${f}`, readFileSync(`${runDir}/${f}`))
  writeFileSync(`${outDir}/results.json`, JSON.stringify(results, null, 2))
  for (const p of profiles) if (p.markdown) writeFileSync(`${outDir}/profile-${p.key}.md`, trimProfile(readFileSync(p.markdown, 'utf8')))
  const analysis = existsSync('bench/analysis.md') ? readFileSync('bench/analysis.md', 'utf8') : ''
  writeFileSync(reportPath, renderReport(results, { analysis, outDir, runDir }))
  log(`wrote ${reportPath} and ${outDir}/ (raw: ${runDir}) in ${((performance.now() - t0) / 1000).toFixed(0)} s`)
  if (!flag('no-rag') && !opts.only) await runRagBench({ quick, http: true, scale: true, lines: quick ? 300_000 : 1_000_000, reportPath, outDir, runDir, log })
  else spliceSavedRag()
}

/** Keep the last code-retrieval section when the rest of the report is rewritten without it. */
function spliceSavedRag(): void {
  if (existsSync(`${outDir}/rag.json`)) spliceRag(reportPath, renderRag(JSON.parse(readFileSync(`${outDir}/rag.json`, 'utf8')) as RagResults))
}

let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) return
    interrupted = true
    log(`${signal}: stopping every server`)
    void stopAll().then(() => process.exit(130))
  })
}

async function renderOnly(): Promise<void> {
  const results = JSON.parse(readFileSync(`${outDir}/results.json`, 'utf8')) as Results
  const analysis = existsSync('bench/analysis.md') ? readFileSync('bench/analysis.md', 'utf8') : ''
  writeFileSync(reportPath, renderReport(results, { analysis, outDir, runDir: '' }))
  spliceSavedRag()
  log(`re-rendered ${reportPath} from ${outDir}/results.json`)
}

async function abuse(): Promise<void> {
  pinSelf()
  const info = runInfo()
  const results = await runAbuse({
    runDir,
    outDir: 'bench/out/abuse',
    only: opts.only,
    git: info.git,
    machine: `${info.machine.cpu} × ${info.machine.cores}, Bun ${Bun.version}; pinned: ${pinned}`,
    log,
  })
  log(`wrote bench/out/abuse/ABUSE.md and results.json (${results.length} attacks; raw: ${runDir})`)
}

try {
  if (flag('render')) await renderOnly()
  else if (flag('abuse')) await abuse()
  else await main()
} catch (err) {
  console.error(err)
  await stopAll()
  process.exit(1)
}
await stopAll()
process.exit(0)
