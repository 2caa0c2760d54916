/**
 * What one account can make the server remember (issue 13: H1, I8), through the front door with
 * authentication on: what a session keeps of `initialize` is bounded, each user and each client
 * address holds a bounded number of live sessions (the least recently used ends first, on every
 * transport), and a session lives no longer than the sign-in that opened it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bearer, mcpSession, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { post } from '../_utils/http.ts'
import { openLegacyStream } from '../_utils/legacy-sse.ts'
import { until } from '../_utils/wait.ts'
import { McpSocket } from '../_utils/ws.ts'

let h: Harness
beforeAll(async () => {
  h = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_MAX_SESSIONS_PER_USER: '3', MCPRAG_MAX_SESSIONS_PER_ADDRESS: '1000', MCPRAG_MAX_CLIENT_INFO_BYTES: '4096' })
})
afterAll(() => h.stop())

const initialize = (token: string, capabilities: Record<string, unknown> = {}, clientInfo: Record<string, unknown> = { name: 'x', version: '1' }) =>
  post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities, clientInfo } }, bearer(token))
const ping = (token: string, sessionId: string) =>
  post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 2, method: 'ping' }, { ...bearer(token), 'mcp-session-id': sessionId })
const storeHas = async (id: string) => (await h.server.stores.sessions.get(id)) !== undefined
const evictedMetric = async () => Number(/^mcprag_sessions_evicted_total (\d+)/m.exec(await (await fetch(`${h.url}/metrics`)).text())?.[1] ?? 0)

describe('what initialize may leave behind (H1)', () => {
  test('capabilities and clientInfo past the limit are refused with -32602 saying so, and no session is made', async () => {
    const user = await signIn(h, 'big-caps@example.com')
    const before = (h.server.stores.sessions as unknown as { size: number }).size
    for (const [capabilities, clientInfo] of [
      [{ x: 'a'.repeat(100_000) }, { name: 'x', version: '1' }],
      [{}, { name: 'x', version: '1', description: 'd'.repeat(5000) }],
    ] as const) {
      const res = await initialize(user.token, capabilities, clientInfo)
      expect(res.status).toBe(200)
      expect(res.headers.get('mcp-session-id')).toBeNull()
      const body = (await res.json()) as { error: { code: number; message: string } }
      expect(body.error.code).toBe(-32602)
      expect(body.error.message).toContain('a session keeps at most 4096')
    }
    expect((h.server.stores.sessions as unknown as { size: number }).size).toBe(before)
    // Within the limit it works.
    expect((await initialize(user.token, { sampling: {} })).headers.get('mcp-session-id')).toBeString()
  })

  test('the same limit holds on legacy SSE (a later initialize) and on WebSocket', async () => {
    const user = await signIn(h, 'big-caps-2@example.com')
    const { sse, endpoint } = await openLegacyStream(`${h.url}/sse`, bearer(user.token))
    await fetch(endpoint, { method: 'POST', headers: { ...bearer(user.token), 'content-type': 'application/json' }, body: JSON.stringify({ jsonrpc: '2.0', id: 'i', method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: { x: 'a'.repeat(10_000) }, clientInfo: { name: 'x', version: '1' } } }) })
    expect(await sse.reply('i')).toMatchObject({ error: { code: -32602 } })
    await sse.close()
    const ws = new McpSocket(`${h.url.replace('http', 'ws')}/mcp/ws`, bearer(user.token))
    await ws.opened()
    const reply = await ws.request('initialize', { protocolVersion: '2025-11-25', capabilities: { x: 'a'.repeat(10_000) }, clientInfo: { name: 'x', version: '1' } })
    expect(reply).toMatchObject({ error: { code: -32602 } })
    ws.close()
  })
})

describe('live sessions per user and per address (H1, M5)', () => {
  test("a user's fourth session ends the least recently used one; the others and other users' are untouched", async () => {
    const user = await signIn(h, 'many@example.com')
    const bystander = await signIn(h, 'bystander@example.com')
    const theirs = (await initialize(bystander.token)).headers.get('mcp-session-id')!
    const evictedBefore = await evictedMetric()
    const ids: string[] = []
    for (let i = 0; i < 3; i++) {
      ids.push((await initialize(user.token)).headers.get('mcp-session-id')!)
      await Bun.sleep(5)
    }
    // Used just now: the second one is now the least recently used.
    expect((await ping(user.token, ids[0]!)).status).toBe(200)
    ids.push((await initialize(user.token)).headers.get('mcp-session-id')!)
    expect((await ping(user.token, ids[1]!)).status).toBe(404)
    expect(await storeHas(ids[1]!)).toBe(false)
    for (const kept of [ids[0]!, ids[2]!, ids[3]!]) expect({ kept, status: (await ping(user.token, kept)).status }).toEqual({ kept, status: 200 })
    expect((await ping(bystander.token, theirs)).status).toBe(200)
    expect(await evictedMetric()).toBe(evictedBefore + 1)
    // 150 more (the probe's count) leave three.
    for (let i = 0; i < 150; i++) await initialize(user.token)
    const owned = await Promise.all(ids.map(storeHas))
    expect(owned.filter(Boolean)).toHaveLength(0)
  })

  test('an evicted legacy SSE or WebSocket session loses its connection', async () => {
    const user = await signIn(h, 'streams@example.com')
    const { sse } = await openLegacyStream(`${h.url}/sse`, bearer(user.token))
    await Bun.sleep(5)
    const ws = await McpSocket.connect(`${h.url.replace('http', 'ws')}/mcp/ws`, bearer(user.token))
    await Bun.sleep(5)
    for (let i = 0; i < 2; i++) await initialize(user.token)
    await until(() => sse.ended, 2000, 'the legacy stream to end')
    expect(ws.closed).toBeUndefined()
    await initialize(user.token)
    expect((await ws.closedWith(2000)).code).toBe(1000)
  })

  test('one client address holds at most 5 sessions whoever opens them', async () => {
    // Another server: the address (127.0.0.1) is shared by every test of this file.
    const other = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_MAX_SESSIONS_PER_USER: '100', MCPRAG_MAX_SESSIONS_PER_ADDRESS: '5' })
    try {
      const users = await Promise.all(['a', 'b', 'c'].map((n) => signIn(other, `${n}@example.com`)))
      const opened: { token: string; id: string }[] = []
      for (let i = 0; i < 6; i++) {
        const u = users[i % 3]!
        opened.push({ token: u.token, id: (await post(`${other.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, bearer(u.token))).headers.get('mcp-session-id')! })
        await Bun.sleep(5)
      }
      const statuses = await Promise.all(opened.map((o) => post(`${other.url}/mcp`, { jsonrpc: '2.0', id: 2, method: 'ping' }, { ...bearer(o.token), 'mcp-session-id': o.id }).then((r) => r.status)))
      expect(statuses).toEqual([404, 200, 200, 200, 200, 200])
    } finally {
      await other.stop()
    }
  })
})

describe('a session ends with the sign-in that opened it (I8)', () => {
  test('an MCP session id is 256 random bits, URL-safe', async () => {
    const user = await signIn(h, 'ids@example.com')
    const ids = await Promise.all([1, 2].map(async () => (await initialize(user.token)).headers.get('mcp-session-id')!))
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(ids[0]).not.toBe(ids[1])
  })

  test('another token of the same user cannot use a session it did not open', async () => {
    const first: Login = await signIn(h, 'two-tokens@example.com')
    const second = await signIn(h, 'two-tokens@example.com')
    const s = await mcpSession(h, first.token)
    expect((await ping(first.token, s.id)).status).toBe(200)
    expect((await ping(second.token, s.id)).status).toBe(404)
  })

  test('logout ends the MCP sessions its token opened, everywhere; the user\'s other sessions stay', async () => {
    const leaving = await signIn(h, 'logout@example.com')
    const staying = await signIn(h, 'logout@example.com')
    const gone = await mcpSession(h, leaving.token)
    const kept = await mcpSession(h, staying.token)
    expect((await restPost(`${h.url}/auth/logout`, {}, bearer(leaving.token))).status).toBe(200)
    await until(async () => !(await storeHas(gone.id)), 2000, 'the session to end')
    expect((await ping(staying.token, kept.id)).status).toBe(200)
    // A fresh sign-in of the same user does not get it back.
    const again = await signIn(h, 'logout@example.com')
    expect((await ping(again.token, gone.id)).status).toBe(404)
  })
})
