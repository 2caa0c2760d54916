/**
 * What a stream may hold for its client (issue 13, H2), through the front door with
 * authentication on: legacy SSE keeps nothing it has delivered (it cannot resume), a session's
 * resumable log is bounded in bytes, and a client that stops reading loses its stream once its
 * byte budget is spent, however few frames that took.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import type { MemoryStreams } from '../../src/stores/memory/memory-streams.ts'
import { bearer, mcpSession, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { post } from '../_utils/http.ts'
import { openLegacyStream, postMessage } from '../_utils/legacy-sse.ts'
import { until } from '../_utils/wait.ts'

let h: Harness
let user: Login
beforeAll(async () => {
  h = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_SSE_MAX_BUFFERED_BYTES: '1048576', MCPRAG_STREAM_LOG_MAX_BYTES: '65536' })
  // Reports progress first: its reply becomes a stream, whose events are logged for resumption.
  h.server.registry.tool({
    name: 'echo_progress',
    tier: 'public',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } } },
    handler: async ({ text }, ctx) => {
      await ctx.progress(1, 1)
      return { content: [{ type: 'text', text: String(text) }] }
    },
  })
  user = await signIn(h, 'reader@example.com')
})
afterAll(() => h.stop())

const streams = () => h.server.stores.streams as MemoryStreams
const echo = (id: number | string, text: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { text } } })

describe('legacy SSE keeps nothing once delivered', () => {
  test('60 replies read by the client leave no bytes in any log', async () => {
    const before = streams().loggedBytes
    const { sse, endpoint } = await openLegacyStream(`${h.url}/sse`, bearer(user.token))
    const text = 'y'.repeat(90_000)
    for (let i = 0; i < 60; i++) expect((await postMessage(endpoint, echo(i, text), bearer(user.token))).status).toBe(202)
    await sse.reply(59, 10_000)
    expect(streams().loggedBytes).toBe(before)
    await sse.close()
  })
})

describe("a session's resumable log is bounded in bytes", () => {
  test('replies that became streams are kept up to the bound, the newest always', async () => {
    const s = await mcpSession(h, user.token)
    const before = streams().loggedBytes
    for (let i = 0; i < 20; i++) {
      const res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo_progress', arguments: { text: 'z'.repeat(20_000) }, _meta: { progressToken: i } } }, s.headers)
      expect(res.headers.get('content-type')).toBe('text/event-stream')
      expect(await res.text()).toContain('zzzz')
    }
    // 20 × 20 KB were written; at most the bound plus one event (the newest always stays) is kept.
    expect(streams().loggedBytes - before).toBeLessThanOrEqual(65_536 + 21_000)
  })
})

describe('a client that stops reading', () => {
  test('loses its stream once 1 MiB waits for it, counted in bytes over many frames', async () => {
    // A raw socket: the stream's first bytes are read (the endpoint event), then reading stops.
    const socket = net.connect(Number(new URL(h.url).port), '127.0.0.1')
    await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
    socket.write(`GET /sse HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${user.token}\r\n\r\n`)
    let head = ''
    await new Promise<void>((resolve) => {
      const onData = (d: Buffer) => {
        head += d.toString()
        if (/data: (\/messages\?sessionId=[^\r\n]+)/.test(head)) {
          socket.off('data', onData)
          socket.pause()
          resolve()
        }
      }
      socket.on('data', onData)
    })
    const endpoint = `${h.url}${/data: (\/messages\?sessionId=[^\r\n]+)/.exec(head)![1]}`
    const text = 'w'.repeat(50_000)
    let refusedAt: number | undefined
    // Replies of 50 KB: the kernel's buffers take some megabytes, then 1 MiB (about 20 frames) of
    // backlog ends the stream. 400 replies (20 MB) are far more than both.
    for (let i = 0; i < 400 && refusedAt === undefined; i++) {
      const res = await postMessage(endpoint, echo(i, text), bearer(user.token))
      if (res.status === 404) refusedAt = i
      else expect(res.status).toBe(202)
      await Bun.sleep(2)
    }
    expect(refusedAt).toBeNumber()
    socket.destroy()
  })

  test('a reader that keeps up is never cut off, whatever it is sent', async () => {
    const { sse, endpoint } = await openLegacyStream(`${h.url}/sse`, bearer(user.token))
    const text = 'v'.repeat(100_000)
    for (let i = 0; i < 30; i++) expect((await postMessage(endpoint, echo(i, text), bearer(user.token))).status).toBe(202)
    await until(async () => (await sse.reply(29, 10_000)) !== undefined, 10_000, 'the last reply')
    expect(sse.ended).toBe(false)
    await sse.close()
  })
})
