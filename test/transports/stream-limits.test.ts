/**
 * Open streams per user and per client address (issue 13, M5), through the front door with
 * authentication on: GET /mcp streams, legacy /sse streams and WebSockets count together; past a
 * limit the connection is refused with 429 naming it, audited, and counted in /metrics; closing one
 * makes room; a reconnect that takes over its own stream is no new stream.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bearer, mcpSession, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { openLegacyStream } from '../_utils/legacy-sse.ts'
import { until } from '../_utils/wait.ts'
import { McpSocket, upgradeRequest } from '../_utils/ws.ts'

let h: Harness
beforeAll(async () => {
  h = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_MAX_STREAMS_PER_USER: '3', MCPRAG_MAX_STREAMS_PER_ADDRESS: '5' })
})
afterAll(() => h.stop())

const sse = (token: string) => fetch(`${h.url}/sse`, { headers: { ...bearer(token), accept: 'text/event-stream' } })
const getStream = (s: { headers: Record<string, string> }, extra: Record<string, string> = {}) => fetch(`${h.url}/mcp`, { headers: { ...s.headers, accept: 'text/event-stream', ...extra } })
const refusals = async () => Number(/^mcprag_auth_failures_total\{reason="stream_refused"\} (\d+)/m.exec(await (await fetch(`${h.url}/metrics`)).text())?.[1] ?? 0)

async function expectRefused(res: Response, setting: string): Promise<void> {
  expect(res.status).toBe(429)
  const body = (await res.json()) as { error: { code: number; message: string } }
  expect(body.error.code).toBe(-32029)
  expect(body.error.message).toContain(setting)
}

describe('per user', () => {
  let user: Login
  beforeAll(async () => {
    user = await signIn(h, 'streams@example.com')
  })

  test('legacy SSE, GET /mcp and WebSocket count together: the fourth is 429, audited and counted; closing one makes room', async () => {
    const before = await refusals()
    const legacy = await openLegacyStream(`${h.url}/sse`, bearer(user.token))
    const session = await mcpSession(h, user.token)
    const get = await getStream(session)
    expect(get.status).toBe(200)
    const socket = await McpSocket.connect(`${h.url.replace('http', 'ws')}/mcp/ws`, bearer(user.token))

    await expectRefused(await sse(user.token), 'MCPRAG_MAX_STREAMS_PER_USER')
    await expectRefused(await upgradeRequest(`${h.url.replace('http', 'ws')}/mcp/ws`, bearer(user.token)), 'MCPRAG_MAX_STREAMS_PER_USER')
    const other = await mcpSession(h, user.token)
    await expectRefused(await getStream(other), 'MCPRAG_MAX_STREAMS_PER_USER')
    expect(await refusals()).toBe(before + 3)
    const records = await h.server.auth!.audit.query({ limit: 10, kind: 'stream_refused' })
    expect(records[0]).toMatchObject({ kind: 'stream_refused', outcome: 'denied', email: 'streams@example.com' })

    // A reconnect of the same GET stream takes it over: no new stream, not refused.
    const again = await getStream(session)
    expect(again.status).toBe(200)
    await again.body?.cancel()
    await get.body?.cancel().catch(() => {})

    socket.close()
    await socket.closedWith()
    await until(async () => {
      const res = await sse(user.token)
      const ok = res.status === 200
      await res.body?.cancel()
      return ok
    }, 2000, 'a place to free up')
    await legacy.sse.close()
  })
})

describe('per address', () => {
  test('five streams from one address, whoever opens them; the sixth is 429', async () => {
    // Earlier streams of this file may still be closing: start from a fresh count.
    const other = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_MAX_STREAMS_PER_USER: '3', MCPRAG_MAX_STREAMS_PER_ADDRESS: '5' })
    try {
      const users = await Promise.all(['a', 'b'].map((n) => signIn(other, `${n}@example.com`)))
      const open: Response[] = []
      for (const token of [users[0]!.token, users[0]!.token, users[0]!.token, users[1]!.token, users[1]!.token]) {
        const res = await fetch(`${other.url}/sse`, { headers: { ...bearer(token), accept: 'text/event-stream' } })
        expect(res.status).toBe(200)
        open.push(res)
      }
      const sixth = await fetch(`${other.url}/sse`, { headers: { ...bearer(users[1]!.token), accept: 'text/event-stream' } })
      await expectRefused(sixth, 'MCPRAG_MAX_STREAMS_PER_ADDRESS')
      for (const res of open) await res.body?.cancel()
    } finally {
      await other.stop()
    }
  })
})
