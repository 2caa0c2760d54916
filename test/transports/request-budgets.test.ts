/**
 * Every message spends the request budget, not only every HTTP request (issue 13: M1, M2), through
 * the front door with authentication on: a JSON-RPC batch (2025-03-26 sessions) is bounded in
 * length and counts each message; each WebSocket message counts, a socket past the budget is
 * answered -32029 and then closed (1008) if it keeps going. Each describe has its own server: a
 * budget spent stays spent for its window.
 */
import { describe, expect, test } from 'bun:test'
import { bearer, signIn, startHarness } from '../_utils/auth.ts'
import { post } from '../_utils/http.ts'
import { McpSocket } from '../_utils/ws.ts'

const list = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list' })

async function batchSession(url: string, token: string): Promise<Record<string, string>> {
  const init = await post(`${url}/mcp`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, bearer(token))
  return { ...bearer(token), 'mcp-session-id': init.headers.get('mcp-session-id')! }
}

describe('batches (M1)', () => {
  test('more than 100 messages in a batch are refused before any runs, saying the limit', async () => {
    const h = await startHarness({ MCPRAG_SIGNUP: 'open' })
    try {
      const user = await signIn(h, 'batch@example.com')
      const headers = await batchSession(h.url, user.token)
      // The probe's batch (80 000 calls of tools/list) is past the body limits already.
      expect((await post(`${h.url}/mcp`, Array.from({ length: 80_000 }, (_, i) => list(i)), headers)).status).toBe(413)
      const big = await post(`${h.url}/mcp`, Array.from({ length: 101 }, (_, i) => list(i)), headers)
      expect(big.status).toBe(400)
      expect(await big.json()).toMatchObject({ error: { code: -32600, message: expect.stringContaining('at most 100 per batch') } })
      const ok = await post(`${h.url}/mcp`, Array.from({ length: 100 }, (_, i) => list(i)), headers)
      expect(ok.status).toBe(200)
      expect(((await ok.json()) as unknown[]).length).toBe(100)
    } finally {
      await h.stop()
    }
  })

  test('each message of a batch spends the per-address request budget: past it the batch is 429, audited', async () => {
    const h = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_RATE_REQUESTS_ADDRESS: '40/1m' })
    try {
      const user = await signIn(h, 'budget@example.com')
      const headers = await batchSession(h.url, user.token)
      const res = await post(`${h.url}/mcp`, Array.from({ length: 60 }, (_, i) => list(i)), headers)
      expect(res.status).toBe(429)
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(await res.json()).toMatchObject({ error: { code: -32029, message: expect.stringContaining('each message of a batch counts') } })
      const [record] = await h.server.auth!.audit.query({ limit: 1, kind: 'rate_limited' })
      expect(record).toMatchObject({ outcome: 'denied', email: 'budget@example.com', transport: 'streamable-http' })
    } finally {
      await h.stop()
    }
  })
})

describe('WebSocket messages (M2)', () => {
  test('each message spends the budget: past it requests get -32029, and a socket that keeps going is closed 1008', async () => {
    const h = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_RATE_REQUESTS_ADDRESS: '40/1m' })
    try {
      const user = await signIn(h, 'flood@example.com')
      const socket = await McpSocket.connect(`${h.url.replace('http', 'ws')}/mcp/ws`, bearer(user.token))
      for (let i = 1; i <= 300; i++) socket.send(list(i))
      const closed = await socket.closedWith(5000)
      expect(closed.code).toBe(1008)
      expect(closed.reason).toContain('Too many requests')
      const answered = socket.messages.filter((m) => 'result' in m && typeof m.id === 'number')
      const refused = socket.messages.filter((m) => (m.error as { code?: number } | undefined)?.code === -32029)
      // The upgrade, initialize and initialized spent 3 of the 40.
      expect(answered.length).toBe(37)
      expect(refused.length).toBe(100)
      expect(refused[0]).toMatchObject({ id: 38, error: { data: { retry_after_s: expect.any(Number) } } })
      const [record] = await h.server.auth!.audit.query({ limit: 1, kind: 'rate_limited' })
      expect(record).toMatchObject({ outcome: 'denied', transport: 'websocket', email: 'flood@example.com' })
    } finally {
      await h.stop()
    }
  })
})
