/**
 * @module bench/lib/report
 * Renders BENCHMARKS.md from a run's results. Every figure in it comes from the run; ratios are
 * taken round by round (same round, same machine state) and their median is reported.
 */
import type { MemoryResult, Results, Sample, TargetResult } from './results.ts'
import { AUDIT_FLUSH_MS } from '../../src/auth/audit.ts'

const median = (xs: number[]): number => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b)
  if (s.length === 0) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}

const int = (x: number) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–')
const fix = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–')
const ms = (us: number) => (Number.isFinite(us) ? (us / 1000).toFixed(us < 10_000 ? 2 : 1) : '–')
const times = (x: number, d = 2) => (Number.isFinite(x) ? `${x.toFixed(d)}×` : '–')

type Metric = (s: Sample) => number

/** Median over rounds of (target's metric / reference's metric) taken in the same round. */
export function ratio(target: TargetResult | undefined, reference: TargetResult | undefined, metric: Metric): number {
  if (!target || !reference || target.status !== 'ok' || reference.status !== 'ok') return NaN
  const byRound = new Map(reference.samples.map((s) => [s.round, s]))
  return median(target.samples.map((s) => {
    const r = byRound.get(s.round)
    return r ? metric(s) / metric(r) : NaN
  }))
}

const med = (t: TargetResult | undefined, metric: Metric) => (t?.status === 'ok' ? median(t.samples.map(metric)) : NaN)

interface Check {
  what: string
  required: string
  measured: string
  met: boolean | undefined
}

function checks(results: Results): Check[] {
  const t = (key: string) => results.targets.find((x) => x.key === key)
  const raw = t('raw-bun')
  const mcprag = t('mcprag')
  const auth = t('mcprag-auth')
  const rps: Metric = (s) => s.rps
  const cpu: Metric = (s) => s.cpuUsPerReq
  const p99: Metric = (s) => s.p99Us
  const check = (what: string, required: string, value: number, ok: (v: number) => boolean, why?: string): Check => ({
    what,
    required,
    measured: Number.isFinite(value) ? times(value) : (why ?? 'not measured'),
    met: Number.isFinite(value) ? ok(value) : undefined,
  })
  const skipped = (r: TargetResult | undefined) => (r && r.status !== 'ok' ? `${r.status}: ${r.reason}` : undefined)
  const out: Check[] = [
    check('mcprag (4) requests/s vs raw Bun (1)', '≥ 0.70×', ratio(mcprag, raw, rps), (v) => v >= 0.7, skipped(mcprag)),
    check('mcprag (4) server CPU per request vs raw Bun (1)', '≤ 1.50×', ratio(mcprag, raw, cpu), (v) => v <= 1.5, skipped(mcprag)),
    check('mcprag with auth (5) requests/s vs raw Bun (1)', '≥ 0.50×', ratio(auth, raw, rps), (v) => v >= 0.5, skipped(auth)),
    check('mcprag (4) requests/s vs SDK on Bun (3)', '≥ 10×', ratio(mcprag, t('sdk-bun-webstandard'), rps), (v) => v >= 10, skipped(mcprag)),
    check('mcprag (4) requests/s vs SDK on Node + express (2)', '≥ 40×', ratio(mcprag, t('sdk-node-express'), rps), (v) => v >= 40, skipped(mcprag)),
    check(`mcprag (4) p99 vs raw Bun's p99, ${results.info.options.connections} connections`, '≤ 2.00×', ratio(mcprag, raw, p99), (v) => v <= 2, skipped(mcprag)),
  ]
  const hop = results.scaleOut?.hop
  const redisAuth = t('mcprag-auth-redis')
  const perCall = med(redisAuth, (s) => s.redisPerCall ?? NaN)
  const why = results.scaleOut ? `${results.scaleOut.status}: ${results.scaleOut.reason ?? ''}` : 'not measured in this run'
  out.push(
    {
      what: 'cross-instance notification latency p99 (one write on one instance to delivery on another, loopback Redis)',
      required: '≤ 2 ms',
      measured: hop ? `${ms(hop.p99Us)} ms (p50 ${ms(hop.p50Us)} ms)` : why,
      met: hop ? hop.p99Us <= 2000 : undefined,
    },
    {
      what: 'Redis commands per `tools/call` on a cached session, auth on (5ʳ), counted by Redis',
      required: '0 in steady state',
      measured: Number.isFinite(perCall)
        ? `${fix(perCall, 4)} (${int(perCall * med(redisAuth, rps))}/s at ${int(med(redisAuth, rps))} calls/s): none awaited by a call; the shared audit log's batches (one script per ${AUDIT_FLUSH_MS} ms), budget flushes, heartbeats; see below`
        : (skipped(redisAuth) ?? 'not measured'),
      // Zero would need the audit log kept per instance, and audit_query behind a round-robin proxy
      // would then see a third of the records: the shared log's batched writes stay.
      met: Number.isFinite(perCall) ? perCall === 0 : undefined,
    },
  )
  for (const m of results.memory) {
    if (m.targetKb === undefined) continue
    const last = m.steps.at(-1)
    out.push({
      what: `idle memory per connection, ${m.label}, at ${int(last?.connections ?? NaN)}`,
      required: `≤ ${m.targetKb} KB`,
      measured: last ? `${fix(last.perConnKb, 2)} KB` : `${m.status}: ${m.reason ?? ''}`,
      met: last ? last.perConnKb <= m.targetKb : undefined,
    })
  }
  return out
}

const mark = (met: boolean | undefined) => (met === undefined ? 'n/a' : met ? '**met**' : '**missed**')

function throughputTable(results: Results): string[] {
  const lines = [
    '| # | Target | Runtime | Reply | req/s | × raw | server CPU µs/req | × raw | p50 ms | p99 ms | p99 × raw | server cores | generator cores | peak RSS MB | errors |',
    '|--:|---|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ]
  for (const t of results.targets) {
    const raw = results.targets.find((x) => x.key === t.reference)
    if (t.status !== 'ok') {
      lines.push(`| ${t.n} | ${t.label} | ${t.runtime} | ${t.reply} | ${t.status === 'skipped' ? '**skipped**' : '**failed**'}: ${t.reason ?? ''} ||||||||||||`)
      continue
    }
    const errors = t.samples.reduce((a, s) => a + s.errors, 0)
    const unit = t.reply === 'WS' ? ' msg/s' : ''
    lines.push(
      `| ${t.n} | ${t.label}${t.note ? ` ¹` : ''} | ${t.runtime} | ${t.reply} | ${int(med(t, (s) => s.rps))}${unit} | ${times(ratio(t, raw, (s) => s.rps))} | ` +
        `${fix(med(t, (s) => s.cpuUsPerReq))} | ${times(ratio(t, raw, (s) => s.cpuUsPerReq))} | ${ms(med(t, (s) => s.p50Us))} | ${ms(med(t, (s) => s.p99Us))} | ` +
        `${times(ratio(t, raw, (s) => s.p99Us))} | ${fix(med(t, (s) => s.serverCores), 2)} | ${fix(med(t, (s) => s.generatorCores), 2)} | ${fix((t.peakRssKb ?? NaN) / 1024)} | ${errors} |`,
    )
  }
  return lines
}

function roundsTable(results: Results): string[] {
  const ok = results.targets.filter((t) => t.status === 'ok')
  const rounds = Math.max(0, ...ok.map((t) => Math.max(0, ...t.samples.map((s) => s.round))))
  const head = ['| Target | ' + Array.from({ length: rounds }, (_, i) => `round ${i + 1}`).join(' | ') + ' |', '|---|' + '--:|'.repeat(rounds)]
  const rows = ok.map((t) => {
    const cells = Array.from({ length: rounds }, (_, i) => {
      const s = t.samples.find((x) => x.round === i + 1)
      return s ? `${int(s.rps)} / ${fix(s.cpuUsPerReq)} / ${ms(s.p99Us)}` : '–'
    })
    return `| ${t.n} ${t.key} | ${cells.join(' | ')} |`
  })
  return [...head, ...rows]
}

const limit = (m: MemoryResult) => (m.targetKb === undefined ? '(floor)' : `≤ ${m.targetKb} KB`)

function memoryTable(memory: MemoryResult[]): string[] {
  const steps = [...new Set(memory.flatMap((m) => m.steps.map((s) => s.connections)))].sort((a, b) => a - b)
  const lines = [
    `| Transport | baseline RSS MB | ${steps.map((n) => `${int(n)} held: KB per conn (RSS MB)`).join(' | ')} | marginal KB per conn (last step) | target |`,
    `|---|--:|${'--:|'.repeat(steps.length)}--:|--:|`,
  ]
  for (const m of memory) {
    if (m.status !== 'ok') {
      lines.push(`| ${m.label} | **${m.status}**: ${m.reason ?? ''} |${'|'.repeat(steps.length + 1)} ${limit(m)} |`)
      continue
    }
    const cells = steps.map((n) => {
      const s = m.steps.find((x) => x.connections === n)
      return s ? `${fix(s.perConnKb, 2)} (${fix(s.rssKb / 1024)})` : '–'
    })
    lines.push(`| ${m.label} | ${fix((m.baselineKb ?? NaN) / 1024)} | ${cells.join(' | ')} | ${fix(m.steps.at(-1)?.marginalKb ?? NaN, 2)} | ${limit(m)} |`)
  }
  return lines
}

/** A frame's file, relative to the checkout (a node_modules symlink resolves to another path). */
const where = (w: string) => (w.includes('/node_modules/') ? w.slice(w.indexOf('/node_modules/') + 1) : w)

function profileSection(results: Results, outDir: string): string[] {
  const ps = results.profiles
  const areas = [...new Set(ps.flatMap((p) => p.summary.areas.map((a) => a.area)))]
  const perReq = (p: (typeof ps)[number], ms: number) => (ms * 1000) / p.requests
  const areaMs = (p: (typeof ps)[number], area: string) => p.summary.areas.find((a) => a.area === area)?.ms ?? 0
  areas.sort((a, b) => Math.max(...ps.map((p) => perReq(p, areaMs(p, b)))) - Math.max(...ps.map((p) => perReq(p, areaMs(p, a)))))
  const lines: string[] = [
    'Each profiled server gets its own fresh process and the same load as in the rounds above (with the profiler on, so slower). ' +
      'Samples before the first and after the last request handled are left out. The profile covers the JavaScript thread only ' +
      '(which is where ≥ 95 % of the server CPU goes; see /proc/<pid>/task).',
    '',
    `| Self time per request (µs) | ${ps.map((p) => `${p.key}`).join(' | ')} |`,
    `|---|${'--:|'.repeat(ps.length)}`,
    ...areas.map((a) => `| ${a} | ${ps.map((p) => fix(perReq(p, areaMs(p, a)))).join(' | ')} |`),
    `| **sampled total** | ${ps.map((p) => `**${fix(perReq(p, p.summary.busyMs))}**`).join(' | ')} |`,
    `| server CPU per request from /proc (all threads, profiler on) | ${ps.map((p) => fix(p.cpuUsPerReq)).join(' | ')} |`,
    `| req/s while profiling | ${ps.map((p) => int(p.rps)).join(' | ')} |`,
    '',
  ]
  for (const p of ps.filter((x) => x.key !== 'raw-bun')) {
    const s = p.summary
    lines.push(
      `### ${p.label}`,
      '',
      `Full profile: \`${outDir}/profile-${p.key}.md\` (Bun's \`--cpu-prof-md\`).`,
      '',
      '| Hottest functions (self time) | where | area | µs/req | share |',
      '|---|---|---|--:|--:|',
      ...s.functions.slice(0, 15).map((f) => `| \`${f.name || '(anonymous)'}\` | ${f.where ? `\`${where(f.where)}\`` : ''} | ${f.area} | ${fix(perReq(p, f.ms), 2)} | ${fix(f.share * 100)} % |`),
      '',
      '| mcprag function (inclusive time) | µs/req | share |',
      '|---|--:|--:|',
      ...s.inclusive.filter((f) => f.ms > 0).sort((a, b) => b.ms - a.ms).map((f) => `| \`${f.name}\` | ${fix(perReq(p, f.ms), 2)} | ${fix(f.share * 100)} % |`),
      '',
    )
  }
  return lines
}

/** Targets whose load generator was (nearly) saturated: their req/s is a lower bound. */
function generatorBound(results: Results): string[] {
  const bound = results.targets.filter((t) => t.status === 'ok' && med(t, (s) => s.generatorCores) >= 0.9)
  if (bound.length === 0) return []
  return [
    `**Generator-bound:** ${bound.map((t) => `${t.n} (${t.key})`).join(', ')}: the load generator used ≥ 0.9 of its core, so these ` +
      'requests/s understate the server; compare server CPU per request for them instead.',
    '',
  ]
}

export function renderReport(results: Results, ctx: { analysis: string; outDir: string; runDir: string }): string {
  const { info } = results
  const all = results.targets.flatMap((t) => t.samples)
  const background = all.map((s) => s.backgroundCores)
  const bgMean = background.length ? background.reduce((a, b) => a + b, 0) / background.length : NaN
  const bgMax = background.length ? Math.max(...background) : NaN
  const genMax = all.length ? Math.max(...all.map((s) => s.generatorCores)) : NaN
  const busy = bgMean > 0.15
  const o = info.options
  const c = checks(results)
  const lines: string[] = [
    '# mcprag benchmarks',
    '',
    `Generated by \`${info.command}\` on ${info.date.slice(0, 16).replace('T', ' ')} UTC (${fix(info.durationS / 60)} min), from \`bench/run.ts\`. ` +
      `Raw outputs: \`${ctx.outDir}/\` (results.json, every wrk/WebSocket output, the profiles).`,
    '',
    busy
      ? `> **Busy machine.** Other processes used ${fix(bgMean, 2)} cores on average (up to ${fix(bgMax, 2)}) during the measured windows, on a ` +
        `${info.machine.cores}-core machine; load average ${info.loadStart.map((x) => fix(x, 2)).join(' / ')} at the start. Absolute figures are ` +
        `depressed and noisy; the ratios (taken round by round) are the meaningful part. A run on a quiet machine is still to be made.`
      : `> Quiet machine: other processes used ${fix(bgMean, 2)} cores on average (up to ${fix(bgMax, 2)}) during the measured windows.`,
    '',
    '## Targets of issue 6',
    '',
    '| Check | Required | Measured | |',
    '|---|--:|--:|---|',
    ...c.map((x) => `| ${x.what} | ${x.required} | ${x.measured} | ${mark(x.met)} |`),
    '',
    `Ratios are medians over ${o.rounds} interleaved rounds of the per-round ratio (both figures from the same round).`,
    '',
    '## Machine and versions',
    '',
    '| | |',
    '|---|---|',
    `| Date | ${info.date} |`,
    `| CPU | ${info.machine.cpu}, ${info.machine.cores} cores, ${info.machine.memGb} GiB RAM |`,
    `| OS | ${info.machine.os}, Linux ${info.machine.kernel} |`,
    `| Pinning | ${info.pinned ? 'servers on core 0, load generators on core 1 (`taskset`)' : 'none (taskset missing or a single core)'} |`,
    `| Load | load average ${info.loadStart.map((x) => fix(x, 2)).join(' / ')} at start, ${info.loadEnd.map((x) => fix(x, 2)).join(' / ')} at end; other processes ${fix(bgMean, 2)} cores on average during measurements (max ${fix(bgMax, 2)}) |`,
    `| Generator | wrk ${info.versions.wrk}, 1 thread, ${o.connections} connections, keep-alive; busiest window used ${fix(genMax, 2)} of its core |`,
    ...Object.entries(info.versions).filter(([k]) => k !== 'wrk').map(([k, v]) => `| ${k} | ${v} |`),
    `| mcprag commit | ${info.git} |`,
    `| Run | ${o.rounds} rounds × ${o.seconds} s per target after a ${o.warmup} s warm-up; order rotated every round |`,
    '',
    `## Throughput and latency (the same \`tools/call\` of an echo tool, ${o.connections} connections)`,
    '',
    ...throughputTable(results),
    '',
    ...results.targets.filter((t) => t.note).slice(0, 1).map(() => `¹ ${results.targets.find((t) => t.note)!.note}.`),
    '',
    ...generatorBound(results),
    'req/s, CPU, p50 and p99 are medians over the rounds; "× raw" is the median of per-round ratios to target 1. Server CPU is ' +
      'utime + stime of the server process (all threads) from /proc/<pid>/stat over the measured window, divided by the requests ' +
      'completed in it; "server cores" is that CPU over the window (1.00 = one core saturated), "generator cores" the same for wrk or the ' +
      'WebSocket client (near 1.00 means the generator, not the server, set the pace). Peak RSS is VmHWM at the end of the rounds. ' +
      'WebSocket rows count messages (one request and its answer) and take their ratios against the WebSocket ceiling (1ʷ).',
    '',
    '<details><summary>Every round (req/s / CPU µs per request / p99 ms)</summary>',
    '',
    ...roundsTable(results),
    '',
    '</details>',
    '',
    '## Idle memory per held connection',
    '',
    results.memory.length
      ? 'For each row a fresh server (mcprag with auth off, or the bare `Bun.serve` of target 1 for the floor rows) is warmed with 1 s of load; ' +
        'then a client on the other core (`bench/clients/hold-streams.ts`) opens sessions, each holding one idle connection, in steps. ' +
        'After each step the server runs a full GC (SIGUSR2 → `Bun.gc(true)`, bench entries only) and VmRSS is read. ' +
        'KB per connection = (RSS − baseline RSS) / connections held; the marginal figure is the growth over the last step alone. ' +
        'The floor rows show what Bun itself needs to hold the same connection with no MCP state at all.'
      : '_Not measured in this run (`--no-memory` or `--only`)._',
    '',
    ...(results.memory.length ? memoryTable(results.memory) : []),
    '',
    ...scaleOutSection(results),
    '## Profile of mcprag (`bun --cpu-prof`)',
    '',
    ...(results.profiles.length ? profileSection(results, ctx.outDir) : ['_Not profiled in this run._', '']),
  ]
  if (ctx.analysis.trim()) lines.push(ctx.analysis.trim(), '')
  lines.push(
    '## Method',
    '',
    '- Every server binds 127.0.0.1 on a free port and is started and stopped by the run. Servers run on core 0 and every load generator on core 1 (`taskset`); the orchestrator also sits on core 1 and sleeps while wrk runs.',
    '- All HTTP targets get the same request: `POST /mcp`, `Content-Type: application/json`, `Accept: application/json, text/event-stream`, ' +
      '`MCP-Protocol-Version: 2025-11-25`, body `{"jsonrpc":"2.0","id":N,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}` ' +
      'with a fresh id per request (a wrk Lua `request()` counter). Before the load every target is sent it once and must answer the echo result with status 200 in the expected media type.',
    '- 1: `bench/servers/raw-bun.ts`, `Bun.serve` that parses the body and answers `Response.json(...)`. ' +
      '2: `bench/peers/sdk-express.ts` (the SDK\'s `simpleStatelessStreamableHttp` example: `createMcpExpressApp()`, a new `McpServer` and ' +
      '`StreamableHTTPServerTransport({ sessionIdGenerator: undefined })` per request), bundled for Node with `bun build --target=node --packages=external`. ' +
      '3: `bench/peers/sdk-web-standard.ts`, the same per-request pattern with `WebStandardStreamableHTTPServerTransport` on `Bun.serve`. ' +
      'Both SDK targets keep the SDK default (`enableJsonResponse` off), so they answer with a one-event SSE stream. ' +
      '4–7: `bench/servers/mcprag.ts`, which is `startServer(loadConfig(env))` plus a bench-only `echo_progress` tool (target 6 sends it a `_meta.progressToken`, so the reply becomes an SSE stream: priming event, one progress notification, the result).',
    '- mcprag answers `tools/call` only inside a session: targets 4–6 initialize one session before the load and send its `Mcp-Session-Id` on every request; the SDK targets are stateless (no session).',
    '- Servers run with `NODE_ENV=production`. Targets 4, 6, 7 and the memory rows run mcprag with `MCPRAG_AUTH=off MCPRAG_AUDIT_STDOUT=off` ' +
      '(the in-memory audit record of each call cannot be turned off and is included); 4ᵃ is `MCPRAG_AUTH=off` alone, i.e. with the default audit line on stdout.',
    '- Target 5 runs mcprag with authentication on (`MCPRAG_AUTH=on`), a throw-away `MCPRAG_DATA_DIR` (SQLite) and keys, the audit line on, and the rate limits raised ' +
      '(`MCPRAG_RATE_TOOLS_USER`, `MCPRAG_RATE_REQUESTS_ADDRESS` = 1000000000/1s) so that no request is refused while the limiter still counts each one. ' +
      'A `user`-tier user is created and its bearer token minted with `bun run mcprag user create/token`; every request carries it. `BENCH_AUTH_ENV` (JSON) overrides server variables. ' +
      'It skips itself, saying so, when the server does not ask for a token.',
    '- Target 7, its ceiling 1ʷ and the legacy-SSE/WebSocket memory rows skip themselves, saying so, when `/mcp/ws` or `GET /sse` does not answer.',
    `- WebSocket load (\`bench/clients/ws-load.ts\`): ${o.wsSockets} sockets, each initialized, one \`tools/call\` in flight per socket; server CPU is read when the client opens and closes its measured window.`,
    '- Latency is wrk\'s (closed loop: each connection sends its next request when the previous answer arrived), so p99 at saturation mostly reflects queueing in the server.',
    '',
  )
  return lines.join('\n')
}

function scaleOutSection(results: Results): string[] {
  const so = results.scaleOut
  const lines = ['## Several instances (Redis, nginx)', '']
  if (!so) return [...lines, '_Not measured in this run._', '']
  if (so.status === 'skipped') return [...lines, `_Skipped: ${so.reason}._`, '']
  lines.push(
    `Redis ${so.redisVersion ?? '?'} of the run's own (no persistence), pinned with the servers. ` +
      'Cross-instance latency: `bench/clients/hub-hop.ts`, a follower process (server core) attached to a session\'s stream through ' +
      'mcprag\'s Redis streams and a writer process (client core) writing one notification per millisecond to it; each carries the ' +
      'time it was handed to `Streams.write` and the follower takes the difference on arrival (one write is one Lua script: count, log, publish).',
    '',
  )
  const hop = so.hop
  if (hop)
    lines.push(
      '| Cross-instance notification | events | p50 ms | p90 ms | p99 ms | max ms |',
      '|---|--:|--:|--:|--:|--:|',
      `| write on one instance → delivered on another | ${int(hop.events)} of ${int(hop.expected)} | ${ms(hop.p50Us)} | ${ms(hop.p90Us)} | ${ms(hop.p99Us)} | ${ms(hop.maxUs)} |`,
      '',
    )
  const redisAuth = results.targets.find((x) => x.key === 'mcprag-auth-redis')
  if (redisAuth?.status === 'ok')
    lines.push(
      `Redis commands per \`tools/call\` of target 5ʳ (auth on, one cached session), from \`INFO commandstats\` around each round: ` +
        redisAuth.samples.map((s) => fix(s.redisPerCall ?? NaN, 4)).join(', ') +
        '. None is on the request path: what remains is the audit log\'s batched `XADD` (one script per batch, at most every ' + AUDIT_FLUSH_MS + ' ms), the request and tool-call budgets added to Redis every 250 ms, and the instance heartbeat; so the count per second stays flat as the call rate grows and the count per call falls with it.',
      '',
    )
  if (so.nginx) {
    const rows = so.nginx.rounds
    const one = median(rows.map((r) => r.find((x) => x.instances === 1)?.rps ?? NaN))
    const three = median(rows.map((r) => r.find((x) => x.instances === 3)?.rps ?? NaN))
    const ratios = median(rows.map((r) => (r.find((x) => x.instances === 3)?.rps ?? NaN) / (r.find((x) => x.instances === 1)?.rps ?? NaN)))
    lines.push(
      `Behind nginx (deploy/nginx.conf's settings, plain round robin, no stickiness): mcprag with auth off over one session, state in Redis, ` +
        `${so.nginx.connections} connections, ${so.nginx.seconds} s per round, the two set-ups alternating round by round. Every instance and nginx share the server core: ` +
        'on this two-core machine three instances compete for the core one uses alone, so the ratio shows what spreading costs, not what more cores would bring.',
      '',
      '| Behind nginx | req/s | p50 ms | p99 ms | Redis commands per call | errors |',
      '|---|--:|--:|--:|--:|--:|',
    )
    for (const n of [1, 3]) {
      const pick = (f: (x: { rps: number; p50Us: number; p99Us: number; redisPerCall: number; errors: number }) => number) => median(rows.map((r) => { const x = r.find((y) => y.instances === n); return x ? f(x) : NaN }))
      lines.push(`| ${n} instance${n > 1 ? 's' : ''} | ${int(pick((x) => x.rps))} | ${ms(pick((x) => x.p50Us))} | ${ms(pick((x) => x.p99Us))} | ${fix(pick((x) => x.redisPerCall), 3)} | ${rows.reduce((a, r) => a + (r.find((x) => x.instances === n)?.errors ?? 0), 0)} |`)
    }
    lines.push('', `Three instances vs one: ${times(ratios)} (medians ${int(three)} vs ${int(one)} req/s).`, '')
  } else if (so.reason) lines.push(`_${so.reason}_`, '')
  return lines
}
