/**
 * Malformed and hostile input at /mcp, sent with raw fetch (mcp-spec.md §2.1 SH-02…SH-22, §5.1 and
 * the §9 list): each gets the documented HTTP status and JSON-RPC code, with a message that says
 * what to fix, and the server keeps serving afterwards.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test'
import { ACCEPT_BOTH, initializeRequest, LATEST, openSession, post, postHeaders, SseReader, type RawSession } from '../_utils/http.ts'
import { startTestServer } from '../_utils/server.ts'

const MAX_BODY = 4096
let server: Awaited<ReturnType<typeof startTestServer>>
let url: string
let session: RawSession
/** Every 200 JSON body seen in this file, to check none carries `"id": null`. */
const okBodies: string[] = []

beforeAll(async () => {
  server = await startTestServer({ MCPRAG_MAX_BODY_BYTES: String(MAX_BODY), MCPRAG_ALLOWED_ORIGINS: 'http://localhost:*' })
  url = server.mcpUrl
  session = await openSession(url)
})
afterAll(() => server.stop())

// Whatever the previous test threw at it, the server must still answer a well-formed request.
afterEach(async () => {
  const res = await post(url, rpc('ping', undefined, 'alive'), session.headers)
  expect({ status: res.status, body: await res.json() }).toEqual({ status: 200, body: { jsonrpc: '2.0', id: 'alive', result: {} } })
})

function rpc(method: string, params?: Record<string, unknown>, id: string | number = 1) {
  return params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }
}

interface Answer {
  status: number
  headers: Headers
  text: string
  body: { jsonrpc?: string; id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } }
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text()
  if (res.status === 200 && res.headers.get('content-type') === 'application/json') okBodies.push(text)
  let body: Answer['body'] = {}
  try {
    body = text === '' ? {} : (JSON.parse(text) as Answer['body'])
  } catch {
    throw new Error(`status ${res.status}: body is not JSON: ${text}`)
  }
  return { status: res.status, headers: res.headers, text, body }
}

function send(body: unknown, headers: Record<string, string> = session.headers): Promise<Answer> {
  return post(url, body, headers).then(answer)
}

/** An HTTP-level rejection: this status, a JSON-RPC error body with this code, no usable id. */
function expectRejected(a: Answer, status: number, code: number, says: string | RegExp): void {
  expect({ status: a.status, code: a.body.error?.code }).toEqual({ status, code })
  expect(a.headers.get('content-type')).toBe('application/json')
  expect(a.body.jsonrpc).toBe('2.0')
  expect(a.body.id ?? null).toBeNull()
  expect(a.body.error?.message).toMatch(says)
}

/** A JSON-RPC error for a readable request: 200, the request's id, this code. */
function expectRpcError(a: Answer, id: string | number, code: number, says: string | RegExp): void {
  expect({ status: a.status, id: a.body.id, code: a.body.error?.code }).toEqual({ status: 200, id, code })
  expect(a.body.error?.message).toMatch(says)
}

describe('Origin and Host validation (SH-02, SH-03)', () => {
  test('a disallowed Origin is 403 on POST, GET and DELETE, naming the setting to change', async () => {
    const origin = 'http://evil.example'
    expectRejected(await send(rpc('ping'), { ...session.headers, origin }), 403, -32000, /Origin "http:\/\/evil\.example".*MCPRAG_ALLOWED_ORIGINS/)
    const get = await fetch(url, { headers: { ...session.headers, accept: 'text/event-stream', origin } }).then(answer)
    expectRejected(get, 403, -32000, /MCPRAG_ALLOWED_ORIGINS/)
    const del = await fetch(url, { method: 'DELETE', headers: { ...session.headers, origin } }).then(answer)
    expectRejected(del, 403, -32000, /MCPRAG_ALLOWED_ORIGINS/)
  })

  test('an opaque "null" Origin and an unparsable one are 403, while an allowed one gets CORS headers', async () => {
    expectRejected(await send(rpc('ping'), { ...session.headers, origin: 'null' }), 403, -32000, /Origin "null"/)
    expectRejected(await send(rpc('ping'), { ...session.headers, origin: 'not a url' }), 403, -32000, /Origin/)
    const allowed = await send(rpc('ping'), { ...session.headers, origin: 'http://localhost:5173' })
    expect(allowed.status).toBe(200)
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
  })

  test('a Host outside the allowlist is 403 (DNS rebinding), while loopback names on any port pass', async () => {
    expectRejected(await send(rpc('ping'), { ...session.headers, host: 'evil.example' }), 403, -32000, /Host "evil\.example".*MCPRAG_ALLOWED_HOSTS/)
    expectRejected(await send(rpc('ping'), { ...session.headers, host: 'evil.example:80' }), 403, -32000, /MCPRAG_ALLOWED_HOSTS/)
    for (const host of ['localhost:1234', '127.0.0.1', '[::1]:9']) expect({ host, status: (await send(rpc('ping'), { ...session.headers, host })).status }).toEqual({ host, status: 200 })
  })

  test('a CORS preflight from a disallowed Origin is 403', async () => {
    const res = await fetch(url, { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'POST' } }).then(answer)
    expectRejected(res, 403, -32000, /Origin/)
  })
})

describe('headers and media types (SH-04, SH-05)', () => {
  test('a POST whose Accept lacks text/event-stream or application/json, or is empty, is 406 naming both', async () => {
    for (const accept of ['application/json', 'text/event-stream', 'text/html', ''])
      expectRejected(await send(rpc('ping'), { ...session.headers, accept }), 406, -32000, /application\/json and text\/event-stream/)
  })

  test('a POST whose Content-Type is not application/json is 415; parameters on it are fine', async () => {
    for (const type of ['text/plain', 'application/jsonx', 'application/x-www-form-urlencoded'])
      expectRejected(await send(rpc('ping'), { ...session.headers, 'content-type': type }), 415, -32000, /Content-Type must be application\/json/)
    const noType = await fetch(url, { method: 'POST', headers: { accept: ACCEPT_BOTH, ...session.headers }, body: new Blob([JSON.stringify(rpc('ping'))]) }).then(answer)
    expectRejected(noType, 415, -32000, /Content-Type/)
    expect((await send(rpc('ping'), { ...session.headers, 'content-type': 'application/json; charset=utf-8' })).status).toBe(200)
  })

  test('a body over MCPRAG_MAX_BODY_BYTES is 413 whether it declares its length or streams it', async () => {
    const big = JSON.stringify(rpc('tools/call', { name: 'echo', arguments: { text: 'x'.repeat(MAX_BODY) } }))
    expectRejected(await send(big), 413, -32600, new RegExp(`exceeds ${MAX_BODY} bytes`))
    const chunked = await fetch(url, {
      method: 'POST',
      headers: postHeaders(session.headers),
      body: new ReadableStream<Uint8Array>({
        start(c) {
          for (let i = 0; i < 4; i++) c.enqueue(new TextEncoder().encode(i === 0 ? big.slice(0, 2000) : big.slice(2000 * i, 2000 * (i + 1))))
          c.close()
        },
      }),
    }).then(answer)
    expectRejected(chunked, 413, -32600, /Payload Too Large/)
    const fits = JSON.stringify(rpc('tools/call', { name: 'echo', arguments: { text: 'x'.repeat(MAX_BODY - 200) } }))
    expect((await send(fits)).status).toBe(200)
  })
})

describe('bodies that are not JSON-RPC (SH-06, LC-01)', () => {
  test('a body that is not JSON is 400 -32700 quoting the parser', async () => {
    expectRejected(await send('{"jsonrpc": "2.0", "id": 1, "method": "ping"'), 400, -32700, /not valid JSON/)
    expectRejected(await send(''), 400, -32700, /Parse error/)
    expectRejected(await send('{\'single\': 1}'), 400, -32700, /Parse error/)
  })

  test('JSON that is not a JSON-RPC message is 400 -32600 saying which rule it broke', async () => {
    const cases: [unknown, RegExp][] = [
      [[1, 2, 3], /must be a JSON object/],
      ['"hello"', /must be a JSON object/],
      ['null', /must be a JSON object/],
      [{ id: 1, method: 'ping' }, /"jsonrpc" must be the string "2.0"/],
      [{ jsonrpc: '1.0', id: 1, method: 'ping' }, /"jsonrpc" must be the string "2.0"/],
      [{ jsonrpc: '2.0', id: null, method: 'ping' }, /"id" must be a string or an integer/],
      [{ jsonrpc: '2.0', id: 1.5, method: 'ping' }, /"id" must be a string or an integer/],
      [{ jsonrpc: '2.0', id: { a: 1 }, method: 'ping' }, /"id" must be a string or an integer/],
      [{ jsonrpc: '2.0', id: 1, method: 'ping', params: [1, 2] }, /"params" must be an object/],
      [{ jsonrpc: '2.0', id: 1, method: 'ping', params: 'x' }, /"params" must be an object/],
      [{ jsonrpc: '2.0', id: 1, method: 42 }, /"method" must be a non-empty string/],
      [{ jsonrpc: '2.0', id: 1, method: '' }, /"method" must be a non-empty string/],
      [{ jsonrpc: '2.0', id: 1 }, /needs "method".*or "result"\/"error"/],
      [{ jsonrpc: '2.0', id: 1, result: {}, error: { code: 1, message: 'x' } }, /either "result" or "error"/],
      [{ jsonrpc: '2.0', id: 1, result: 'yes' }, /"result" must be an object/],
      [{ jsonrpc: '2.0', id: 1, error: 'bad' }, /"error" must be an object with a numeric "code"/],
    ]
    for (const [body, says] of cases) {
      const a = await send(body)
      expect({ body, status: a.status, code: a.body.error?.code }).toEqual({ body, status: 400, code: -32600 })
      expect(a.body.error?.message).toMatch(says)
    }
  })

  test('a readable id is kept in the 400 error so the client can match it', async () => {
    const a = await send({ jsonrpc: '2.0', id: 'keep-me', method: 'ping', params: [] })
    expect({ status: a.status, id: a.body.id }).toEqual({ status: 400, id: 'keep-me' })
  })
})

describe('batches (V-03, SH-16)', () => {
  test('an empty batch is 400 -32600', async () => {
    expectRejected(await send([]), 400, -32600, /empty batch/)
  })

  test('initialize inside a batch is 400 -32600, even alone in it', async () => {
    expectRejected(await send([initializeRequest(1), rpc('ping', undefined, 2)], {}), 400, -32600, /initialize must be sent alone/)
    expectRejected(await send([initializeRequest(1)], {}), 400, -32600, /initialize must be sent alone/)
  })

  test('a batch on a session that negotiated anything but 2025-03-26 is 400 -32600 naming the version', async () => {
    expectRejected(await send([rpc('ping', undefined, 1), rpc('ping', undefined, 2)]), 400, -32600, /only part of protocol 2025-03-26.*speaks 2025-11-25/)
    const june = await openSession(url, '2025-06-18')
    expectRejected(await send([rpc('ping', undefined, 1)], june.headers), 400, -32600, /speaks 2025-06-18/)
  })

  test('a 2025-03-26 session gets one JSON array answering every request of its batch, notifications skipped', async () => {
    const march = await openSession(url, '2025-03-26')
    const a = await send([rpc('ping', undefined, 1), { jsonrpc: '2.0', method: 'notifications/whatever' }, rpc('tools/call', { name: 'echo', arguments: { text: 'b' } }, 'two')], march.headers)
    expect(a.status).toBe(200)
    expect(a.body).toEqual([
      { jsonrpc: '2.0', id: 1, result: {} },
      { jsonrpc: '2.0', id: 'two', result: { content: [{ type: 'text', text: 'b' }] } },
    ] as unknown as Answer['body'])
  })
})

describe('sessions (SH-13…SH-17, LC-13)', () => {
  test('a request without Mcp-Session-Id is 400 saying to initialize first, ping included', async () => {
    expectRejected(await send(rpc('ping'), {}), 400, -32000, /Mcp-Session-Id header is required.*initialize/)
    expectRejected(await send(rpc('tools/list'), {}), 400, -32000, /Mcp-Session-Id/)
    const get = await fetch(url, { headers: { accept: 'text/event-stream' } }).then(answer)
    expectRejected(get, 400, -32000, /Mcp-Session-Id/)
    const del = await fetch(url, { method: 'DELETE' }).then(answer)
    expectRejected(del, 400, -32000, /Mcp-Session-Id/)
  })

  test('an unknown session id is 404 -32001 telling the client to initialize again, for every HTTP method', async () => {
    const headers = { 'mcp-session-id': crypto.randomUUID() }
    expectRejected(await send(rpc('ping'), headers), 404, -32001, /Session not found.*initialize a new session/)
    expectRejected(await send({ jsonrpc: '2.0', method: 'notifications/initialized' }, headers), 404, -32001, /Session not found/)
    expectRejected(await fetch(url, { headers: { ...headers, accept: 'text/event-stream' } }).then(answer), 404, -32001, /Session not found/)
    expectRejected(await fetch(url, { method: 'DELETE', headers }).then(answer), 404, -32001, /Session not found/)
  })

  test('initialize answers with a visible-ASCII session id, a fresh one each time', async () => {
    const ids = new Set<string>()
    for (let i = 0; i < 3; i++) {
      const res = await post(url, initializeRequest(i))
      expect(res.status).toBe(200)
      ids.add(res.headers.get('mcp-session-id')!)
      await res.body?.cancel()
    }
    expect(ids.size).toBe(3)
    for (const id of ids) expect(id).toMatch(/^[\x21-\x7e]{16,}$/)
  })

  test('initialize negotiates: a supported version is echoed, an unknown one gets 2025-11-25', async () => {
    for (const [asked, got] of [['2025-06-18', '2025-06-18'], ['2024-11-05', '2024-11-05'], ['2026-07-28', LATEST], ['1.0', LATEST]]) {
      const a = await send(initializeRequest(1, asked), {})
      expect({ asked, got: a.body.result?.protocolVersion }).toEqual({ asked, got })
    }
  })

  test('initialize with missing or malformed params is a -32602 error naming the field, and creates no session', async () => {
    const none = await post(url, { jsonrpc: '2.0', id: 1, method: 'initialize' })
    expect(none.headers.get('mcp-session-id')).toBeNull()
    expectRpcError(await answer(none), 1, -32602, /"protocolVersion" must be a string/)
    const noCaps = initializeRequest(2) as { params: Record<string, unknown> }
    delete noCaps.params.capabilities
    expectRpcError(await send(noCaps, {}), 2, -32602, /"capabilities" must be an object/)
    const noInfo = initializeRequest(3) as { params: Record<string, unknown> }
    noInfo.params.clientInfo = { name: 'x' }
    expectRpcError(await send(noInfo, {}), 3, -32602, /"clientInfo" must be an object with string "name" and "version"/)
  })

  test('a second initialize on an existing session is refused with 400 -32600', async () => {
    expectRejected(await send(initializeRequest(9)), 400, -32600, /initialize starts a new session; send it without Mcp-Session-Id/)
  })

  test('an unsupported MCP-Protocol-Version header is 400 listing the supported ones; an absent one is accepted', async () => {
    for (const version of ['1999-01-01', '2025-13-99', 'latest'])
      expectRejected(await send(rpc('ping'), { ...session.headers, 'mcp-protocol-version': version }), 400, -32000, new RegExp(`unsupported MCP-Protocol-Version "${version}".*supported: 2025-11-25`))
    expect((await send(rpc('ping'), { 'mcp-session-id': session.id })).status).toBe(200)
  })

  test('a 2026-07-28 MCP-Protocol-Version header claims the per-request era: without the _meta envelope it is 400 -32602, never served as the session', async () => {
    const a = await send(rpc('ping'), { ...session.headers, 'mcp-protocol-version': '2026-07-28' })
    expect(a.status).toBe(400)
    expect(a.body).toMatchObject({ id: 1, error: { code: -32602 } })
    expect(a.body.error?.message).toContain('"params._meta"')
  })

  test('legacy requests carrying Mcp-Method and Mcp-Name headers (as mcp-remote sends) are served normally', async () => {
    const a = await send(rpc('tools/call', { name: 'echo', arguments: { text: 'hdr' } }), { ...session.headers, 'mcp-method': 'tools/call', 'mcp-name': 'echo' })
    expect(a.body.result).toEqual({ content: [{ type: 'text', text: 'hdr' }] })
  })
})

describe('HTTP methods and the GET stream (SH-10, SH-19, SH-22)', () => {
  test('PUT and PATCH are 405 with an Allow header listing GET, POST, DELETE', async () => {
    for (const method of ['PUT', 'PATCH']) {
      const a = await fetch(url, { method, headers: postHeaders(session.headers), body: JSON.stringify(rpc('ping')) }).then(answer)
      expectRejected(a, 405, -32000, new RegExp(`Method ${method} is not allowed.*use GET, POST, DELETE`))
      expect(a.headers.get('allow')).toBe('GET, POST, DELETE')
    }
  })

  test('a GET without text/event-stream in Accept is 406', async () => {
    for (const accept of ['application/json', ''])
      expectRejected(await fetch(url, { headers: { ...session.headers, accept } }).then(answer), 406, -32000, /Accept header must list text\/event-stream/)
  })

  test('a second GET stream on a session takes it over: the first ends, the second gets what follows', async () => {
    const own = await openSession(url)
    const stream = () => fetch(url, { headers: { ...own.headers, accept: 'text/event-stream' } })
    const first = await stream()
    expect(first.status).toBe(200)
    const firstReader = new SseReader(first)
    expect((await firstReader.next(2000))?.data).toBe('')
    // Last attach wins, on any instance alike: a reconnecting client never waits for its dead connection.
    const second = await stream()
    expect(second.status).toBe(200)
    const secondReader = new SseReader(second)
    expect((await secondReader.next(2000))?.data).toBe('')
    expect(await firstReader.rest()).toEqual([])
    // The watched fixture resource changes every 3 s: its update reaches the stream that took over.
    expect((await post(url, rpc('resources/subscribe', { uri: 'test://watched-resource' }), own.headers)).status).toBe(200)
    const update = await secondReader.next(8000)
    expect(update?.json).toMatchObject({ method: 'notifications/resources/updated', params: { uri: 'test://watched-resource' } })
    await secondReader.cancel()
  })

  test('a Last-Event-ID from another session, unknown or garbled, is 400 -32600', async () => {
    const other = await openSession(url)
    const res = await post(url, rpc('tools/call', { name: 'test_tool_with_progress', arguments: {}, _meta: { progressToken: 1 } }), other.headers)
    const reader = new SseReader(res)
    const priming = (await reader.next(2000))!
    await reader.rest()
    for (const id of [priming.id!, 'garbage', 'no-such-stream:3', `${priming.id!.split(':')[0]}:-1`]) {
      const a = await fetch(url, { headers: { ...session.headers, accept: 'text/event-stream', 'last-event-id': id } }).then(answer)
      expectRejected(a, 400, -32600, /Last-Event-ID does not name an event of this session/)
    }
  })
})

describe('notifications and responses (SH-07, §9.2)', () => {
  test('a notification, a result and an error posted by the client are 202 with an empty body', async () => {
    const bodies = [
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', method: 'notifications/unknown-kind', params: { x: 1 } },
      { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'not-running' } },
      { jsonrpc: '2.0', id: 'nobody.1', result: {} },
      { jsonrpc: '2.0', id: 'nobody.2', error: { code: -32601, message: 'no' } },
    ]
    for (const body of bodies) {
      const res = await post(url, body, session.headers)
      const text = await res.text()
      expect({ body, status: res.status, text, type: res.headers.get('content-type') }).toEqual({ body, status: 202, text: '', type: null })
    }
  })
})

describe('method-level errors (LC-02, LC-32, §9.10)', () => {
  test('an unknown method is -32601 naming it, including names found on Object.prototype', async () => {
    for (const method of ['foo/bar', 'constructor', '__proto__', 'toString', 'hasOwnProperty', 'tools/list/'])
      expectRpcError(await send(rpc(method, undefined, method)), method, -32601, `Method not found: ${method}`)
  })

  test('an unknown tool is a JSON-RPC -32602 error with the name in data', async () => {
    const a = await send(rpc('tools/call', { name: 'no_such_tool', arguments: {} }))
    expectRpcError(a, 1, -32602, /Unknown tool: no_such_tool/)
    expect(a.body.error?.data).toEqual({ name: 'no_such_tool' })
    expectRpcError(await send(rpc('tools/call', { arguments: {} })), 1, -32602, /"name" must be a non-empty string/)
    expectRpcError(await send(rpc('tools/call', { name: 'echo', arguments: [1] })), 1, -32602, /"arguments" must be an object/)
  })

  test('bad tool arguments are an isError result naming the offending field', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ text: 42 }, /"text" must be string/],
      [{}, /missing required field "text"/],
      [{ text: 'x', extra: true }, /unknown field "extra" is not allowed/],
    ]
    for (const [args, says] of cases) {
      const a = await send(rpc('tools/call', { name: 'echo', arguments: args }))
      expect({ args, status: a.status, isError: a.body.result?.isError }).toEqual({ args, status: 200, isError: true })
      expect((a.body.result?.content as { text: string }[])[0]?.text).toMatch(says)
    }
  })

  test('resources/read of an unknown uri is -32002 with data.uri; a missing uri is -32602', async () => {
    const a = await send(rpc('resources/read', { uri: 'test://nowhere' }))
    expectRpcError(a, 1, -32002, /Resource not found: test:\/\/nowhere/)
    expect(a.body.error?.data).toEqual({ uri: 'test://nowhere' })
    expectRpcError(await send(rpc('resources/read', {})), 1, -32602, /"uri" must be a non-empty string/)
    expectRpcError(await send(rpc('resources/subscribe', { uri: 'test://nowhere' })), 1, -32002, /Resource not found/)
  })

  test('prompts/get with a missing required argument or an unknown name is -32602 saying which', async () => {
    const a = await send(rpc('prompts/get', { name: 'test_prompt_with_arguments', arguments: { arg1: 'a' } }))
    expectRpcError(a, 1, -32602, /missing required arguments: arg2/)
    expect(a.body.error?.data).toEqual({ missing: ['arg2'] })
    expectRpcError(await send(rpc('prompts/get', { name: 'nope' })), 1, -32602, /Unknown prompt: nope/)
    expectRpcError(await send(rpc('prompts/get', { name: 'test_prompt_with_arguments', arguments: { arg1: 1, arg2: 'b' } })), 1, -32602, /argument "arg1" must be a string/)
  })

  test('logging/setLevel with an invalid level is -32602 listing the valid levels', async () => {
    for (const level of ['loud', 'INFO', 3, null])
      expectRpcError(await send(rpc('logging/setLevel', { level })), 1, -32602, /Invalid log level.*use one of debug, info, notice, warning, error, critical, alert, emergency/)
  })

  test('completion/complete and list cursors reject malformed params with -32602', async () => {
    expectRpcError(await send(rpc('completion/complete', {})), 1, -32602, /"ref" must be an object/)
    expectRpcError(await send(rpc('completion/complete', { ref: { type: 'ref/prompt', name: 'nope' }, argument: { name: 'a', value: '' } })), 1, -32602, /Unknown prompt: nope/)
    expectRpcError(await send(rpc('completion/complete', { ref: { type: 'ref/other' }, argument: { name: 'a', value: '' } })), 1, -32602, /"ref\.type" must be/)
    for (const cursor of [5, 'forged', {}])
      expectRpcError(await send(rpc('tools/list', { cursor })), 1, -32602, /Invalid cursor: pass back the nextCursor value exactly as received/)
  })

  test('id 0 is a real id: it is answered, not treated as missing', async () => {
    expect((await send(rpc('ping', undefined, 0))).body).toEqual({ jsonrpc: '2.0', id: 0, result: {} })
  })
})

test('no 200 answer in this file carried "id": null (SDK 1.x clients reject it)', () => {
  expect(okBodies.length).toBeGreaterThan(20)
  expect(okBodies.filter((b) => /"id"\s*:\s*null/.test(b))).toEqual([])
})
