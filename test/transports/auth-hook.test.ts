/**
 * The authentication hook as the legacy SSE and WebSocket transports use it: called on the stream
 * GET, on every message POST and once per WebSocket upgrade; its refusal is what the client gets;
 * a session answers only to the principal that opened it. The hook here is a stand-in that reads
 * `Authorization: Bearer <name>` or a `mcp.auth.<name>` subprotocol entry (the SEP-1288 draft
 * convention: it shows that whatever the upgrade request carries reaches the hook). The real hook
 * (auth/bearer.ts) takes a bearer header or, on the upgrade, a single-use ticket: test/http/ws-ticket.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { McpServer } from '../../src/core/mcp-server.ts'
import { Registry } from '../../src/core/registry.ts'
import type { Authenticate } from '../../src/transports/authenticate.ts'
import { HttpGuard } from '../../src/transports/http-guard.ts'
import { LegacySseTransport } from '../../src/transports/legacy-sse.ts'
import { RevocationWatcher } from '../../src/transports/revocation-watcher.ts'
import { WebSocketTransport } from '../../src/transports/websocket.ts'
import { MemoryBus } from '../../src/stores/memory/memory-bus.ts'
import { MemorySessionStore } from '../../src/stores/memory/memory-session-store.ts'
import { MemoryStreams } from '../../src/stores/memory/memory-streams.ts'
import { registerContractTools, WHOAMI_TOOL } from '../_utils/contract-tools.ts'
import { openLegacyStream, postMessage } from '../_utils/legacy-sse.ts'

const calls: string[] = []
const authenticate: Authenticate = async (request) => {
  const bearer = /^Bearer (\w+)$/.exec(request.headers.get('authorization') ?? '')?.[1]
  const offered = (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim())
  const name = bearer ?? offered.find((p) => p.startsWith('mcp.auth.'))?.slice('mcp.auth.'.length)
  calls.push(`${request.method} ${new URL(request.url).pathname} ${name ?? '-'}`)
  if (!name) return new Response(JSON.stringify({ error: 'invalid_token' }), { status: 401, headers: { 'www-authenticate': 'Bearer' } })
  return { id: name, tier: 'user', authSessionId: `auth-${name}` }
}

let base: string
let sessions: MemorySessionStore
let bus: MemoryBus
let stop: () => Promise<void>
beforeAll(async () => {
  bus = new MemoryBus()
  const streams = new MemoryStreams({ retentionMs: 60_000 })
  const registry = new Registry()
  registerContractTools(registry)
  sessions = new MemorySessionStore({ ttlMs: 60_000 })
  const core = new McpServer({ info: { name: 'auth-hook', version: '1' }, registry, sessions, streams, bus, instanceId: 'a', cursorSecret: 'x'.repeat(32) })
  await core.start()
  const guard = new HttpGuard({ allowedHosts: ['127.0.0.1'], allowedOrigins: ['http://localhost:*'] })
  const revocations = new RevocationWatcher({ bus })
  await revocations.start()
  const common = { core, streams, guard, authenticate, revocations, json: { maxBytes: 65_536, maxDepth: 64, maxKeys: 10_000 } }
  const sse = new LegacySseTransport({ ...common, mounts: [{ stream: '/sse', messages: '/messages' }], keepAliveMs: 15_000, sseRetryMs: 1000 })
  const ws = new WebSocketTransport({ ...common, path: '/mcp/ws', maxBufferedBytes: 1 << 20, maxWaitingBytes: 1 << 20, idleTimeoutS: 120, keepAliveMs: 15_000 })
  const app = new Elysia({ serve: { routes: ws.routes() as Record<string, never> } })
    .use(sse.plugin((request, server) => server?.timeout(request, 0)))
    .listen({ port: 0, hostname: '127.0.0.1', websocket: ws.serverOptions() })
  base = `http://127.0.0.1:${app.server!.port}`
  stop = async () => {
    revocations.close()
    await app.stop(true)
    await core.close()
    await sessions.close()
    await streams.close()
  }
})
afterAll(() => stop())

describe('legacy SSE', () => {
  test("the hook's refusal is the answer to a stream GET without credentials", async () => {
    const response = await fetch(`${base}/sse`, { headers: { accept: 'text/event-stream' } })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
  })

  test('every POST is authenticated, and a session answers only to the principal that opened it', async () => {
    const { sse, endpoint } = await openLegacyStream(`${base}/sse`, { authorization: 'Bearer alice' })
    calls.length = 0
    const ping = (id: number, headers: Record<string, string>) => postMessage(endpoint, { jsonrpc: '2.0', id, method: 'ping' }, headers)
    expect((await ping(1, { authorization: 'Bearer alice' })).status).toBe(202)
    expect((await ping(2, { authorization: 'Bearer alice' })).status).toBe(202)
    expect((await ping(3, {})).status).toBe(401)
    // Bob holds Alice's session id: it is not a credential, so it is as good as unknown.
    const bob = await ping(4, { authorization: 'Bearer bob' })
    expect(bob.status).toBe(404)
    expect(await bob.json()).toMatchObject({ error: { code: -32001 } })
    expect(calls).toEqual(['POST /messages alice', 'POST /messages alice', 'POST /messages -', 'POST /messages bob'])
    expect(await sse.reply(2)).toMatchObject({ result: {} })
    await sse.close()
  })

  test("revoking the principal's auth session (logout) closes its stream and ends the session", async () => {
    const { sse, endpoint } = await openLegacyStream(`${base}/sse`, { authorization: 'Bearer dave' })
    const sessionId = new URL(endpoint).searchParams.get('sessionId')!
    RevocationWatcher.publish(bus, ['auth-dave'])
    const deadline = Date.now() + 5000
    while (!sse.ended && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(sse.ended).toBe(true)
    while ((await sessions.get(sessionId)) !== undefined && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    expect(await sessions.get(sessionId)).toBeUndefined()
  })
})

describe('WebSocket', () => {
  const upgradeHeaders = (protocols: string) => ({
    upgrade: 'websocket',
    connection: 'Upgrade',
    'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
    'sec-websocket-version': '13',
    'sec-websocket-protocol': protocols,
  })

  test("the hook's refusal is the answer to an upgrade without credentials", async () => {
    const response = await fetch(`${base}/mcp/ws`, { headers: upgradeHeaders('mcp') })
    expect(response.status).toBe(401)
  })

  test('a browser-style token in the subprotocol list is checked once per upgrade, and only mcp is selected', async () => {
    calls.length = 0
    const ws = new WebSocket(`${base.replace('http', 'ws')}/mcp/ws`, ['mcp', 'mcp.auth.carol'])
    const messages: { id?: unknown; result?: { content?: { text: string }[] } }[] = []
    ws.onmessage = (e) => void messages.push(JSON.parse(String(e.data)))
    await new Promise((resolve, reject) => {
      ws.onopen = resolve
      ws.onerror = reject
    })
    // The token is never echoed back: the server selects `mcp` only.
    expect(ws.protocol).toBe('mcp')
    expect(calls).toEqual(['GET /mcp/ws carol'])
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }))
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: WHOAMI_TOOL, arguments: {} } }))
    const deadline = Date.now() + 5000
    while (!messages.some((m) => m.id === 2) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10))
    const sessionId = messages.find((m) => m.id === 2)!.result!.content![0]!.text
    expect((await sessions.get(sessionId))?.ownerId).toBe('carol')
    ws.close()
  })

  test("revoking the principal's auth session (logout) closes its socket with 1008", async () => {
    const ws = new WebSocket(`${base.replace('http', 'ws')}/mcp/ws`, ['mcp', 'mcp.auth.erin'])
    await new Promise((resolve, reject) => {
      ws.onopen = resolve
      ws.onerror = reject
    })
    const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)))
    RevocationWatcher.publish(bus, ['auth-erin'])
    expect(await closed).toBe(1008)
  })
})
