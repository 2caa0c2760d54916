/**
 * Legacy HTTP+SSE wire rules (mcp-spec.md §3), checked with raw HTTP: the endpoint event, 202 and
 * replies on the stream, error statuses, Origin checks, keep-alives, clean-up when the stream
 * closes, the stream as the REST API's JSON event feed, and LS-07 (a reconnected SDK client keeps
 * working without initializing again).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import type { MemoryStreams } from '../../src/stores/memory/memory-streams.ts'
import { registerContractTools, WHOAMI_TOOL } from '../_utils/contract-tools.ts'
import { openLegacyStream, postMessage } from '../_utils/legacy-sse.ts'
import { modernRequest } from '../_utils/modern.ts'
import { startTestServer } from '../_utils/server.ts'
import { until } from '../_utils/wait.ts'

/** A session id: 256 random bits, base64url. */
const SESSION_ID = '[A-Za-z0-9_-]{43}'
const initialize = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2024-11-05', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
})

let server: Awaited<ReturnType<typeof startTestServer>>
/** The server's stream logs (one per session with a connection or a message). */
const logCount = () => (server.stores.streams as MemoryStreams).sessionCount
beforeAll(async () => {
  // Small limits so the tests can cross them: 1 KiB bodies, keep-alive every 100 ms.
  server = await startTestServer({ MCPRAG_MAX_BODY_BYTES: '1024', MCPRAG_KEEPALIVE_MS: '100', MCPRAG_ALLOWED_ORIGINS: 'http://localhost:*' })
  registerContractTools(server.registry)
})
afterAll(() => server.stop())

describe('the stream', () => {
  test('GET /sse is an event stream whose first event names /messages?sessionId=… on the same origin', async () => {
    const response = await fetch(`${server.url}/sse`, { headers: { accept: 'text/event-stream' } })
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/event-stream')
    expect(response.headers.get('cache-control')).toContain('no-cache')
    const reader = response.body!.getReader()
    const text = new TextDecoder().decode((await reader.read()).value)
    expect(text).toMatch(new RegExp(`^event: endpoint\nretry: \\d+\ndata: /messages\\?sessionId=${SESSION_ID}\n\n`))
    await reader.cancel()
  })

  test('GET /mcp/sse names /mcp/messages?sessionId=…', async () => {
    const { sse, endpoint } = await openLegacyStream(`${server.url}/mcp/sse`)
    expect(endpoint).toMatch(new RegExp(`^${server.url}/mcp/messages\\?sessionId=${SESSION_ID}$`))
    await sse.close()
  })

  test('a stream without an Accept header is served too (plain consumers, curl)', async () => {
    const response = await fetch(`${server.url}/sse`)
    expect(response.status).toBe(200)
    await response.body!.cancel()
  })

  test('keep-alive comments flow while the stream is idle', async () => {
    const { sse } = await openLegacyStream(`${server.url}/sse`)
    await until(() => sse.comments.length >= 2, 5000, 'two keep-alive comments')
    expect(sse.comments[0]).toContain('keepalive')
    await sse.close()
  })

  test('other methods on the stream and message paths are 405 with Allow', async () => {
    const onStream = await fetch(`${server.url}/sse`, { method: 'PUT' })
    expect(onStream.status).toBe(405)
    expect(onStream.headers.get('allow')).toBe('GET')
    const onMessages = await fetch(`${server.url}/messages`)
    expect(onMessages.status).toBe(405)
    expect(onMessages.headers.get('allow')).toBe('POST')
  })
})

describe('messages', () => {
  test('a POST answers 202 with no body; the reply travels on the stream as event: message', async () => {
    const { sse, endpoint } = await openLegacyStream(`${server.url}/sse`)
    const posted = await postMessage(endpoint, initialize(1))
    expect(posted.status).toBe(202)
    expect(await posted.text()).toBe('')
    const reply = await sse.reply(1)
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: 1, result: { protocolVersion: '2024-11-05', serverInfo: { name: 'mcprag' } } })
    expect((await postMessage(endpoint, { jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202)
    expect((await postMessage(endpoint, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'hi' } } })).status).toBe(202)
    expect(await sse.reply(2)).toMatchObject({ result: { content: [{ type: 'text', text: 'hi' }] } })
    // initialize once per session.
    await postMessage(endpoint, initialize(3))
    expect(await sse.reply(3)).toMatchObject({ error: { code: -32600 } })
    await sse.close()
  })

  test('the transport stays on the 2025 revisions: a 2026-07-28 envelope is served by the session, a 2026-07-28 header refused', async () => {
    const { sse, endpoint } = await openLegacyStream(`${server.url}/sse`)
    try {
      const { body, headers } = modernRequest('tools/call', { name: 'echo', arguments: { text: 'still 2025' } }, { id: 'm', headers: { 'mcp-protocol-version': null } })
      expect((await postMessage(endpoint, body, headers)).status).toBe(202)
      expect(await sse.reply('m')).toEqual({ jsonrpc: '2.0', id: 'm', result: { content: [{ type: 'text', text: 'still 2025' }] } })
      const claimed = await postMessage(endpoint, body, { ...headers, 'mcp-protocol-version': '2026-07-28' })
      expect(claimed.status).toBe(400)
      expect(((await claimed.json()) as { error: { message: string } }).error.message).toContain('unsupported MCP-Protocol-Version "2026-07-28"')
    } finally {
      await sse.close()
    }
  })

  test('a fresh stream is usable before initialize (what a reconnected client relies on, LS-07)', async () => {
    const { sse, endpoint } = await openLegacyStream(`${server.url}/sse`)
    await postMessage(endpoint, { jsonrpc: '2.0', id: 'x', method: 'tools/list' })
    const reply = await sse.reply('x')
    expect((reply.result as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('echo')
    await sse.close()
  })

  test('an unknown or missing session is 404 / 400; a Streamable HTTP session id is not a legacy one', async () => {
    const unknown = await postMessage(`${server.url}/messages?sessionId=00000000-0000-0000-0000-000000000000`, initialize(1))
    expect(unknown.status).toBe(404)
    expect(await unknown.json()).toMatchObject({ error: { code: -32001 } })
    expect((await postMessage(`${server.url}/messages`, initialize(1))).status).toBe(400)
    const streamable = await fetch(`${server.url}/mcp`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify(initialize(1)),
    })
    const id = streamable.headers.get('mcp-session-id')!
    expect((await postMessage(`${server.url}/messages?sessionId=${id}`, { jsonrpc: '2.0', id: 2, method: 'ping' })).status).toBe(404)
  })

  test('a legacy session id means nothing on /mcp: POST, GET and DELETE are 404 and the stream stays open (issue 13, L2)', async () => {
    const { sse, endpoint } = await openLegacyStream(`${server.url}/sse`)
    const id = new URL(endpoint).searchParams.get('sessionId')!
    const headers = { 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' }
    const posted = await fetch(`${server.url}/mcp`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }) })
    const got = await fetch(`${server.url}/mcp`, { headers: { ...headers, accept: 'text/event-stream' } })
    const deleted = await fetch(`${server.url}/mcp`, { method: 'DELETE', headers })
    expect([posted.status, got.status, deleted.status]).toEqual([404, 404, 404])
    expect(await posted.json()).toMatchObject({ error: { code: -32001 } })
    await Bun.sleep(50)
    expect(sse.ended).toBe(false)
    expect((await postMessage(endpoint, { jsonrpc: '2.0', id: 'still', method: 'ping' })).status).toBe(202)
    expect(await sse.reply('still')).toMatchObject({ result: {} })
    await sse.close()
  })

  test('bad bodies: invalid JSON 400/-32700, batch and non-JSON-RPC 400/-32600, wrong type 415, too large 413', async () => {
    const { sse, endpoint } = await openLegacyStream(`${server.url}/sse`)
    const parse = await postMessage(endpoint, '{"jsonrpc":')
    expect(parse.status).toBe(400)
    expect(await parse.json()).toMatchObject({ id: null, error: { code: -32700 } })
    const batch = await postMessage(endpoint, [{ jsonrpc: '2.0', id: 1, method: 'ping' }])
    expect(batch.status).toBe(400)
    expect(await batch.json()).toMatchObject({ error: { code: -32600 } })
    const invalid = await postMessage(endpoint, { id: 7, method: 'ping' })
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({ id: 7, error: { code: -32600 } })
    const text = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })
    expect(text.status).toBe(415)
    const big = await postMessage(endpoint, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(2000) } } })
    expect(big.status).toBe(413)
    // The session survived all of it.
    await postMessage(endpoint, { jsonrpc: '2.0', id: 9, method: 'ping' })
    expect(await sse.reply(9)).toMatchObject({ result: {} })
    await sse.close()
  })
})

describe('Origin and Host', () => {
  test('a foreign Origin is 403 on the stream and on the messages endpoint', async () => {
    for (const path of ['/sse', '/mcp/sse']) {
      const response = await fetch(`${server.url}${path}`, { headers: { accept: 'text/event-stream', origin: 'https://evil.example' } })
      expect(response.status).toBe(403)
      expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining('Origin') } })
    }
    const { sse, endpoint } = await openLegacyStream(`${server.url}/sse`)
    const post = await postMessage(endpoint, { jsonrpc: '2.0', id: 1, method: 'ping' }, { origin: 'https://evil.example' })
    expect(post.status).toBe(403)
    await sse.close()
  })

  test('an allowed browser Origin is served, with CORS headers', async () => {
    const { sse, response } = await openLegacyStream(`${server.url}/sse`, { origin: 'http://localhost:5173' })
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    await sse.close()
  })
})

describe('clean-up', () => {
  test('closing the stream ends the session: its endpoint is 404 and its stream log is gone', async () => {
    await until(() => logCount() === 0, 5000, 'earlier streams to be cleaned up')
    const { sse, endpoint } = await openLegacyStream(`${server.url}/sse`)
    const sessionId = new URL(endpoint).searchParams.get('sessionId')!
    expect(await server.stores.sessions.get(sessionId)).toBeDefined()
    expect(logCount()).toBe(1)
    await sse.close()
    await until(async () => (await server.stores.sessions.get(sessionId)) === undefined, 5000, 'the session to end')
    expect((await postMessage(endpoint, { jsonrpc: '2.0', id: 1, method: 'ping' })).status).toBe(404)
    await until(() => logCount() === 0, 5000, 'the stream log to go')
  })
})

describe('the REST API event stream', () => {
  test('GET /mcp/sse: after the endpoint event, every server notification is one JSON data line', async () => {
    const { sse, endpoint } = await openLegacyStream(`${server.url}/mcp/sse`)
    await postMessage(endpoint, { jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'test://static-text' } })
    await sse.reply(1)
    server.registry.tool({ name: 'rest_feed_probe', description: 'added by a test', handler: () => ({ content: [] }) })
    await server.core.resourceUpdated('test://static-text')
    await sse.next((e) => e.data.includes('resources/updated'))
    const json = sse.events.filter((e) => e.event !== 'endpoint').map((e) => JSON.parse(e.data) as { method?: string })
    expect(json.map((m) => m.method).filter(Boolean)).toEqual(['notifications/tools/list_changed', 'notifications/resources/updated'])
    server.registry.removeTool('rest_feed_probe')
    await sse.close()
  })
})

describe('LS-07: the SDK client after its stream drops', () => {
  test('the EventSource reconnects to a new session and the client goes on without initializing again', async () => {
    // A fetch whose stream bodies the test can cut, as a proxy or a flaky network would.
    const cuts: (() => void)[] = []
    const cuttable = async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
      const response = await fetch(url, init)
      if (!response.body) return response
      const upstream = response.body.getReader()
      let controller!: ReadableStreamDefaultController<Uint8Array>
      const body = new ReadableStream<Uint8Array>({
        start: (c) => void (controller = c),
        pull: async (c) => {
          const { done, value } = await upstream.read().catch(() => ({ done: true as const, value: undefined }))
          if (done) c.close()
          else c.enqueue(value)
        },
        cancel: () => upstream.cancel(),
      })
      cuts.push(() => {
        controller.error(new Error('connection lost'))
        void upstream.cancel()
      })
      return new Response(body, { status: response.status, headers: response.headers })
    }
    const client = new Client({ name: 'ls-07', version: '1.0.0' })
    await client.connect(new SSEClientTransport(new URL(`${server.url}/sse`), { eventSourceInit: { fetch: cuttable } }))
    const whoami = async () => ((await client.callTool({ name: WHOAMI_TOOL, arguments: {} })).content as { text: string }[])[0]!.text
    const first = await whoami()

    cuts[0]!()
    await until(() => cuts.length === 2, 5000, 'the EventSource to reconnect')
    await until(async () => (await server.stores.sessions.get(first)) === undefined, 5000, 'the dropped session to end')
    // The endpoint event of the new stream may trail its response headers: retry briefly.
    let second = first
    await until(async () => {
      second = await whoami().catch(() => first)
      return second !== first
    }, 5000, 'a call on the new session')
    expect(second).toMatch(new RegExp(SESSION_ID))
    const echo = await client.callTool({ name: 'echo', arguments: { text: 'after the drop' } })
    expect(echo.content).toEqual([{ type: 'text', text: 'after the drop' }])
    await client.close()
  })
})
