/**
 * The operations endpoints over a real port: `/ready` (200; 503 when the store fails or is slow;
 * 503 while draining, with in-flight work finishing on REST and on a WebSocket), `/metrics` (the
 * Prometheus text format, counters that move with traffic on every transport, gauges of sessions
 * and streams, auth failures) and its optional token.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { loadConfig, type ConfigError } from '../../src/config.ts'
import { bearer, mcpSession, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { ACCEPT_BOTH, SseReader, post } from '../_utils/http.ts'
import { hasRedis, REDIS_URL } from '../_utils/redis.ts'
import { startTestServer, type TestServer } from '../_utils/server.ts'
import { tcpProxy } from '../_utils/tcp-proxy.ts'
import { until } from '../_utils/wait.ts'
import { McpSocket } from '../_utils/ws.ts'

/** A tool that runs until released, so a test can hold work in flight. */
function gatedTool(s: TestServer, name: string) {
  let release!: () => void
  let started!: () => void
  const gate = new Promise<void>((r) => (release = r))
  const running = new Promise<void>((r) => (started = r))
  s.registry.tool({
    name,
    tier: 'public',
    handler: async () => {
      started()
      await gate
      return { content: [{ type: 'text', text: `${name} finished` }] }
    },
  })
  return { release, running }
}

const settled = <T>(p: Promise<T>) => {
  const state = { done: false }
  void p.then(() => (state.done = true), () => (state.done = true))
  return state
}

describe('/ready', () => {
  test('200 with its checks; 503 naming the check when the store fails or is too slow', async () => {
    const s = await startTestServer({ MCPRAG_AUTH: 'on', MCPRAG_FIXTURES: 'none' })
    try {
      const ok = await fetch(`${s.url}/ready`)
      expect(ok.status).toBe(200)
      expect(ok.headers.get('cache-control')).toBe('no-store')
      expect(await ok.json()).toEqual({ status: 'ready', checks: { auth_store: 'ok' } })

      const store = s.auth!.stores
      const ping = store.ping.bind(store)
      store.ping = () => Promise.reject(new Error('SQLITE_IOERR: /secret/path/mcprag.db'))
      const failed = await fetch(`${s.url}/ready`)
      expect(failed.status).toBe(503)
      const text = await failed.text()
      expect(JSON.parse(text)).toEqual({ status: 'not_ready', checks: { auth_store: 'failed' } })
      // An unauthenticated probe learns nothing about the infrastructure.
      expect(text).not.toContain('secret')

      store.ping = () => new Promise(() => {})
      const slow = await fetch(`${s.url}/ready`)
      expect(slow.status).toBe(503)
      expect(await slow.json()).toEqual({ status: 'not_ready', checks: { auth_store: 'timeout' } })
      store.ping = ping
      expect((await fetch(`${s.url}/ready`)).status).toBe(200)
      // Liveness never looks at dependencies.
      expect((await fetch(`${s.url}/health`)).status).toBe(200)
    } finally {
      await s.stop()
    }
  })

  test.skipIf(!hasRedis)('with Redis: a subscriber away past the grace is not ready (it would miss answers meant for it); back, it is; stop() does not wait for it', async () => {
    const proxy = await tcpProxy(REDIS_URL)
    const s = await startTestServer({ REDIS_URL: proxy.url, MCPRAG_REDIS_READY_GRACE_S: '1', MCPRAG_FIXTURES: 'none' }, { redis: true })
    try {
      expect(await (await fetch(`${s.url}/ready`)).json()).toEqual({ status: 'ready', checks: { redis: 'ok' } })
      proxy.cut('SUBSCRIBE')
      // Commands still work: a blip shorter than the grace keeps the instance in the pool.
      expect((await fetch(`${s.url}/ready`)).status).toBe(200)
      await until(async () => (await fetch(`${s.url}/ready`)).status === 503, 5000, '/ready to report the subscriber')
      expect(await (await fetch(`${s.url}/ready`)).json()).toEqual({ status: 'not_ready', checks: { redis: 'failed' } })
      proxy.restore()
      await until(async () => (await fetch(`${s.url}/ready`)).status === 200, 5000, '/ready once the subscriber is back')
      proxy.cut('SUBSCRIBE')
      await until(async () => (await fetch(`${s.url}/ready`)).status === 503, 5000, 'the subscriber to be away again')
    } finally {
      const stopped = await Promise.race([s.stop().then(() => 'stopped'), Bun.sleep(5000).then(() => 'still stopping')])
      await proxy.close()
      expect(stopped).toBe('stopped')
    }
  }, 20_000)

  test('503 from the moment stop() begins; an in-flight REST call still finishes, then the server closes', async () => {
    const s = await startTestServer()
    const slow = gatedTool(s, 'slow')
    expect((await fetch(`${s.url}/ready`)).status).toBe(200)
    const call = fetch(`${s.url}/mcp/tool/slow`, { method: 'POST' })
    await slow.running

    const stopped = s.stop()
    const stop = settled(stopped)
    const ready = await fetch(`${s.url}/ready`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toEqual({ status: 'draining', checks: {} })
    expect((await fetch(`${s.url}/health`)).status).toBe(200)
    expect(await (await fetch(`${s.url}/metrics`)).text()).toContain('\nmcprag_draining 1\n')
    await Bun.sleep(150)
    expect(stop.done).toBe(false)

    slow.release()
    const res = await call
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ result: { content: [{ type: 'text', text: 'slow finished' }] } })
    await stopped
    await expect(fetch(`${s.url}/health`)).rejects.toThrow()
  })

  test('a tool call running on a WebSocket (no HTTP request in flight) also finishes before the close', async () => {
    const s = await startTestServer()
    const slow = gatedTool(s, 'slow_ws')
    const socket = await McpSocket.connect(`${s.url.replace('http', 'ws')}/mcp/ws`)
    const reply = socket.request('tools/call', { name: 'slow_ws', arguments: {} }, 10_000)
    await slow.running

    const stopped = s.stop()
    const stop = settled(stopped)
    expect((await fetch(`${s.url}/ready`)).status).toBe(503)
    await Bun.sleep(150)
    expect(stop.done).toBe(false)
    slow.release()
    expect(await reply).toMatchObject({ result: { content: [{ type: 'text', text: 'slow_ws finished' }] } })
    await stopped
  })

  test('MCPRAG_DRAIN_DELAY_S keeps serving with /ready at 503; MCPRAG_SHUTDOWN_GRACE_S bounds the wait', async () => {
    const s = await startTestServer({ MCPRAG_DRAIN_DELAY_S: '1', MCPRAG_SHUTDOWN_GRACE_S: '1' })
    gatedTool(s, 'never') // never released
    const stuck = fetch(`${s.url}/mcp/tool/never`, { method: 'POST' }).catch(() => 'cut')
    const started = Date.now()
    const stopped = s.stop()
    await Bun.sleep(100)
    expect((await fetch(`${s.url}/ready`)).status).toBe(503)
    const served = await fetch(`${s.url}/mcp/tool/echo`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"still here"}' })
    expect(served.status).toBe(200)
    const warn = console.warn
    const warned: string[] = []
    console.warn = (...args: unknown[]) => void warned.push(args.join(' '))
    try {
      await stopped
    } finally {
      console.warn = warn
    }
    const took = Date.now() - started
    expect(took).toBeGreaterThanOrEqual(1900)
    expect(took).toBeLessThan(6000)
    expect(warned.join('\n')).toContain('still running after 1 s (MCPRAG_SHUTDOWN_GRACE_S)')
    expect(await stuck).toBe('cut')
  })
})

test('SIGTERM to the real process: /ready turns 503 while it still serves, then it exits 0', async () => {
  const proc = Bun.spawn(['bun', 'src/index.ts'], {
    env: { PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: '0', MCPRAG_AUTH: 'off', MCPRAG_DRAIN_DELAY_S: '1' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  try {
    const reader = proc.stdout.getReader()
    let out = ''
    while (!out.includes('API docs at')) {
      const { done, value } = await reader.read()
      if (done) throw new Error(`the server exited before listening: ${out}`)
      out += new TextDecoder().decode(value)
    }
    const url = /listening on (http:\/\/[^\s]+)/.exec(out)?.[1]
    expect(out).toContain(`API docs at ${url}/docs`)
    expect((await fetch(`${url}/ready`)).status).toBe(200)
    proc.kill('SIGTERM')
    await Bun.sleep(200)
    const ready = await fetch(`${url}/ready`)
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ status: 'draining' })
    expect((await fetch(`${url}/health`)).status).toBe(200)
    expect(await proc.exited).toBe(0)
    for (let r = await reader.read(); !r.done; r = await reader.read()) out += new TextDecoder().decode(r.value)
    expect(out).toContain('SIGTERM received: draining')
  } finally {
    proc.kill()
  }
})

/** The value of one sample, e.g. `sample(text, 'mcprag_tool_calls_total', { tool: 'echo' })` (labels must match exactly). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',')
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line)
    if (!m || m[1] !== name) continue
    const got = (m[2] ?? '').split(/,(?=[a-zA-Z_]+=")/).filter(Boolean).sort().join(',')
    if (got === want) return Number(m[3])
  }
  return undefined
}

describe('/metrics', () => {
  let h: Harness
  let user: Login
  const scrape = async () => {
    const res = await fetch(`${h.url}/metrics`)
    expect(res.status).toBe(200)
    return res.text()
  }
  beforeAll(async () => {
    h = await startHarness()
    user = await signIn(h, 'metrics@example.com', 'user')
  })
  afterAll(() => h.stop())

  test('is the Prometheus text format: HELP and TYPE per family, valid samples, cumulative buckets', async () => {
    await fetch(`${h.url}/health`)
    const res = await fetch(`${h.url}/metrics`)
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8')
    const text = await res.text()
    expect(text.endsWith('\n')).toBe(true)
    const families = new Map<string, string>()
    for (const line of text.trimEnd().split('\n')) {
      const type = /^# TYPE (\S+) (counter|gauge|histogram)$/.exec(line)
      if (type) families.set(type[1]!, type[2]!)
      else if (!line.startsWith('# HELP ')) expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? [-+]?(\d+(\.\d+)?(e[-+]?\d+)?|\+Inf|NaN)$/)
    }
    expect([...families]).toEqual(
      expect.arrayContaining([
        ['mcprag_http_requests', 'counter'],
        ['mcprag_http_request_duration_seconds', 'histogram'],
        ['mcprag_http_requests_in_flight', 'gauge'],
        ['mcprag_sessions_active', 'gauge'],
        ['mcprag_streams_active', 'gauge'],
        ['mcprag_tool_calls', 'counter'],
        ['mcprag_tool_call_duration_seconds', 'histogram'],
        ['mcprag_auth_failures', 'counter'],
        ['mcprag_draining', 'gauge'],
      ]),
    )
    const route = { transport: 'rest', route: '/health', method: 'GET' }
    const buckets = text.split('\n').filter((l) => l.startsWith('mcprag_http_request_duration_seconds_bucket{transport="rest",route="/health",method="GET"'))
    const counts = buckets.map((l) => Number(l.split(' ')[1]))
    expect(counts.length).toBeGreaterThan(5)
    expect(counts).toEqual([...counts].sort((a, b) => a - b))
    expect(counts.at(-1)).toBe(sample(text, 'mcprag_http_request_duration_seconds_count', route)!)
    expect(sample(text, 'mcprag_draining')).toBe(0)
  })

  test('tool calls count by tool, outcome and transport; requests by route and status', async () => {
    const before = await scrape()
    const ok = (t: string) => sample(t, 'mcprag_tool_calls_total', { tool: 'echo', outcome: 'ok', transport: 'rest' }) ?? 0
    const invalid = (t: string) => sample(t, 'mcprag_tool_calls_total', { tool: 'echo', outcome: 'invalid_arguments', transport: 'rest' }) ?? 0
    const denied = (t: string) => sample(t, 'mcprag_tool_calls_total', { tool: 'audit_query', outcome: 'denied', transport: 'rest' }) ?? 0
    const okStatus = (t: string) => sample(t, 'mcprag_http_requests_total', { transport: 'rest', route: '/mcp/tool/*', method: 'POST', status: '200' }) ?? 0
    const latency = (t: string) => sample(t, 'mcprag_tool_call_duration_seconds_count', { tool: 'echo' }) ?? 0

    for (let i = 0; i < 3; i++) expect((await restPost(`${h.url}/mcp/tool/echo`, { text: `n${i}` }, bearer(user.token))).status).toBe(200)
    expect((await restPost(`${h.url}/mcp/tool/echo`, { text: 42 }, bearer(user.token))).status).toBe(422)
    expect((await restPost(`${h.url}/mcp/tool/audit_query`, {}, bearer(user.token))).status).toBe(403)
    // Over Streamable HTTP too: the transport label tells them apart.
    const session = await mcpSession(h, user.token)
    await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'echo', arguments: { text: 'mcp' } } }, session.headers)

    const after = await scrape()
    expect(ok(after) - ok(before)).toBe(3)
    expect(invalid(after) - invalid(before)).toBe(1)
    expect(denied(after) - denied(before)).toBe(1)
    expect(okStatus(after) - okStatus(before)).toBe(3)
    expect(latency(after) - latency(before)).toBe(5)
    expect(sample(after, 'mcprag_tool_calls_total', { tool: 'echo', outcome: 'ok', transport: 'streamable-http' })).toBeGreaterThanOrEqual(1)
    expect(sample(after, 'mcprag_http_requests_total', { transport: 'streamable-http', route: '/mcp', method: 'POST', status: '200' })).toBeGreaterThanOrEqual(2)
    expect(sample(after, 'mcprag_http_requests_total', { transport: 'rest', route: '/mcp/tool/*', method: 'POST', status: '422' })).toBeGreaterThanOrEqual(1)
    expect((await fetch(`${h.url}/mcp`, { method: 'DELETE', headers: session.headers })).status).toBe(200)
  })

  test('unmatched paths and odd methods share bounded label values; nothing stays in flight', async () => {
    await fetch(`${h.url}/no/such/${crypto.randomUUID()}`)
    await fetch(`${h.url}/health`, { method: 'PROPFIND' })
    const text = await scrape()
    expect(sample(text, 'mcprag_http_requests_total', { transport: 'rest', route: 'unmatched', method: 'GET', status: '404' })).toBeGreaterThanOrEqual(1)
    expect(text).toContain('method="OTHER"')
    expect(text).not.toContain('/no/such/')
    // Only the scrape itself: every earlier request (404s, errors, streams, upgrades) was let go.
    expect(sample(text, 'mcprag_http_requests_in_flight')).toBe(1)
  })

  test('active sessions and streams per transport follow clients connecting and leaving', async () => {
    const gauges = async () => {
      const text = await scrape()
      const of = (name: string) => Object.fromEntries(['streamable-http', 'sse', 'websocket'].map((t) => [t, sample(text, name, { transport: t })]))
      return { sessions: of('mcprag_sessions_active'), streams: of('mcprag_streams_active') }
    }
    expect(await gauges()).toEqual({ sessions: { 'streamable-http': 0, sse: 0, websocket: 0 }, streams: { 'streamable-http': 0, sse: 0, websocket: 0 } })

    const session = await mcpSession(h, user.token)
    const getStream = await fetch(`${h.url}/mcp`, { headers: { ...session.headers, accept: 'text/event-stream' } })
    const stream = new SseReader(getStream)
    // The legacy stream's first event names the POST endpoint (not JSON): read it raw.
    const sse = (await fetch(`${h.url}/sse`, { headers: { ...bearer(user.token), accept: 'text/event-stream' } })).body!.getReader()
    expect(new TextDecoder().decode((await sse.read()).value)).toContain('event: endpoint')
    const socket = await McpSocket.connect(`${h.url.replace('http', 'ws')}/mcp/ws`, bearer(user.token))
    expect(await gauges()).toEqual({ sessions: { 'streamable-http': 1, sse: 1, websocket: 1 }, streams: { 'streamable-http': 1, sse: 1, websocket: 1 } })
    const text = await scrape()
    expect(sample(text, 'mcprag_http_requests_total', { transport: 'websocket', route: '/mcp/ws', method: 'GET', status: '101' })).toBe(1)
    expect(sample(text, 'mcprag_http_requests_total', { transport: 'sse', route: '/sse', method: 'GET', status: '200' })).toBe(1)
    expect(sample(text, 'mcprag_http_requests_total', { transport: 'streamable-http', route: '/mcp', method: 'GET', status: '200' })).toBe(1)

    await stream.cancel()
    await sse.cancel().catch(() => {})
    socket.ws.close()
    await fetch(`${h.url}/mcp`, { method: 'DELETE', headers: session.headers })
    const deadline = Date.now() + 5000
    let now = await gauges()
    while (JSON.stringify(now).match(/:1/) && Date.now() < deadline) {
      await Bun.sleep(20)
      now = await gauges()
    }
    expect(now).toEqual({ sessions: { 'streamable-http': 0, sse: 0, websocket: 0 }, streams: { 'streamable-http': 0, sse: 0, websocket: 0 } })
  })

  test('refused credentials count as auth failures by reason', async () => {
    const count = (t: string) => sample(t, 'mcprag_auth_failures_total', { reason: 'token_rejected' }) ?? 0
    const before = count(await scrape())
    expect((await restPost(`${h.url}/mcp/tool/echo`, { text: 'x' }, bearer('not.a.token'))).status).toBe(401)
    expect((await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }, { ...bearer('forged'), accept: ACCEPT_BOTH })).status).toBe(401)
    expect(count(await scrape()) - before).toBe(2)
  })
})

describe('MCPRAG_METRICS_TOKEN', () => {
  const TOKEN = 'metrics-token-0123456789abcdef'
  let s: TestServer
  beforeAll(async () => {
    s = await startTestServer({ MCPRAG_METRICS_TOKEN: TOKEN })
  })
  afterAll(() => s.stop())

  test('without it, or with a wrong one, /metrics is 401; with it, 200', async () => {
    const none = await fetch(`${s.url}/metrics`)
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="metrics"')
    expect(await none.json()).toMatchObject({ error: 'invalid_token', message: expect.stringContaining('MCPRAG_METRICS_TOKEN') })
    for (const header of [`Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, TOKEN, `Basic ${TOKEN}`])
      expect((await fetch(`${s.url}/metrics`, { headers: { authorization: header } })).status).toBe(401)
    const ok = await fetch(`${s.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
    expect(ok.status).toBe(200)
    expect(await ok.text()).toContain('# TYPE mcprag_http_requests counter')
    // The other operations endpoints stay open for probes.
    expect((await fetch(`${s.url}/ready`)).status).toBe(200)
  })

  test('the document says /metrics needs the token', async () => {
    const doc = (await (await fetch(`${s.url}/openapi.json`)).json()) as { paths: Record<string, { get: { security: unknown } }> }
    expect(doc.paths['/metrics']!.get.security).toEqual([{ metricsToken: [] }])
  })

  test('a weak token, or a bad drain setting, stops the boot naming the variable', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ MCPRAG_AUTH: 'off', ...env })
        return []
      } catch (err) {
        return (err as ConfigError).problems
      }
    }
    expect(problems({ MCPRAG_METRICS_TOKEN: 'short' })).toEqual([expect.stringContaining('MCPRAG_METRICS_TOKEN is invalid')])
    expect(problems({ MCPRAG_METRICS_TOKEN: 'has spaces in the middle of it' })).toEqual([expect.stringContaining('MCPRAG_METRICS_TOKEN is invalid')])
    expect(problems({ MCPRAG_DRAIN_DELAY_S: '-1' })).toEqual([expect.stringContaining('MCPRAG_DRAIN_DELAY_S="-1" is invalid')])
    expect(problems({ MCPRAG_SHUTDOWN_GRACE_S: 'soon' })).toEqual([expect.stringContaining('MCPRAG_SHUTDOWN_GRACE_S="soon" is invalid')])
    const config = loadConfig({ MCPRAG_AUTH: 'off' })
    expect([config.metricsToken, config.drainDelayMs, config.shutdownGraceMs]).toEqual([undefined, 0, 10_000])
  })
})
