/**
 * MCP 2026-07-28 on /mcp beside the 2025 sessions, driven with raw HTTP (mcp-spec.md §1.3 and
 * SM-01…SM-13): era routing, the envelope and header checks with their status, code and id,
 * result shapes, per-request log levels, cancellation by closing the stream, `input_required`
 * rounds with a sealed requestState (continued on another instance sharing the secret), and
 * `subscriptions/listen`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ACCEPT_BOTH, initializeRequest, openSession, post, SseReader } from '../_utils/http.ts'
import { MODERN, modernCall, modernRequest, readReply, type ModernReply } from '../_utils/modern.ts'
import { startTestServer, type TestServer } from '../_utils/server.ts'
import { until, waitForAbort } from '../_utils/wait.ts'

const SECRET = 'modern-test-secret-'.repeat(3)
let server: TestServer
/** Shares `server`'s secret: it can continue what `server` began. */
let sibling: TestServer
/** Has a secret of its own. */
let stranger: TestServer
let url: string
beforeAll(async () => {
  server = await startTestServer({ MCPRAG_SECRET: SECRET })
  sibling = await startTestServer({ MCPRAG_SECRET: SECRET })
  stranger = await startTestServer({ MCPRAG_SECRET: 'another-secret-'.repeat(3) })
  url = server.mcpUrl
})
afterAll(async () => {
  await Promise.all([server.stop(), sibling.stop(), stranger.stop()])
})

const SERVER_INFO = () => ({ 'io.modelcontextprotocol/serverInfo': { name: 'mcprag', title: 'mcprag', version: server.core.info.version } })

/** A refusal before dispatch: this status, this code, the request's own id, and a message that says what to fix. */
function expectRefused(r: ModernReply, status: number, code: number, id: unknown, says: string): void {
  expect({ status: r.status, id: r.body.id, code: r.body.error?.code }).toEqual({ status, id, code })
  expect(r.body.error?.message).toContain(says)
}

describe('era routing on one endpoint', () => {
  test('server/discover answers the versions, capabilities and identity, with caching hints and no session', async () => {
    const r = await modernCall(url, 'server/discover')
    expect(r.status).toBe(200)
    expect(r.headers.get('mcp-session-id')).toBeNull()
    expect(r.body).toEqual({
      jsonrpc: '2.0',
      id: 1,
      result: {
        resultType: 'complete',
        supportedVersions: [MODERN],
        capabilities: { tools: { listChanged: true }, resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, logging: {}, completions: {} },
        instructions: 'mcprag serves code-retrieval tools over MCP.',
        _meta: SERVER_INFO(),
        ttlMs: 300_000,
        cacheScope: 'public',
      },
    })
  })

  test('a 2026-07-28 request is served whatever Mcp-Session-Id it carries: there are no sessions to find', async () => {
    const r = await modernCall(url, 'tools/call', { name: 'echo', arguments: { text: 'no session' } }, { headers: { 'mcp-session-id': 'not-a-session' } })
    expect({ status: r.status, result: r.body.result?.content }).toEqual({ status: 200, result: [{ type: 'text', text: 'no session' }] })
  })

  test('initialize without the envelope still opens a 2025 session, and is never answered with 2026-07-28', async () => {
    const res = await post(url, initializeRequest(1, MODERN))
    const body = (await res.json()) as { result: { protocolVersion: string } }
    expect(res.status).toBe(200)
    expect(res.headers.get('mcp-session-id')).toMatch(/^[\x21-\x7e]+$/)
    expect(body.result.protocolVersion).toBe('2025-11-25')
  })

  test('initialize, ping, logging/setLevel, resources/subscribe and unknown methods are 404 -32601 in 2026-07-28, with the id', async () => {
    for (const [i, method] of ['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe', 'tasks/list'].entries()) {
      const r = await modernCall(url, method, { uri: 'test://static-text' }, { id: `m${i}`, headers: { 'mcp-name': null } })
      expectRefused(r, 404, -32601, `m${i}`, `Method not found: ${method}`)
    }
  })

  test('GET and DELETE naming 2026-07-28 are 405 saying what replaces them', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(url, { method, headers: { accept: 'text/event-stream', 'mcp-protocol-version': MODERN, 'mcp-session-id': 'x' } })
      expect({ status: res.status, allow: res.headers.get('allow') }).toEqual({ status: 405, allow: 'POST' })
      expect(await res.text()).toContain('POST subscriptions/listen')
    }
  })

  test('a batch carrying a 2026-07-28 request is 400 -32600; a 2026-07-28 notification is 202', async () => {
    const { body, headers } = modernRequest('tools/list')
    const batch = await post(url, [body], headers)
    expect(batch.status).toBe(400)
    expect(await batch.json()).toMatchObject({ error: { code: -32600, message: expect.stringContaining('POST each request on its own') } })
    const { id: _id, ...note } = modernRequest('notifications/cancelled', { requestId: 1 }).body
    const accepted = await post(url, note, { 'mcp-protocol-version': MODERN })
    expect({ status: accepted.status, body: await accepted.text() }).toEqual({ status: 202, body: '' })
  })
})

describe('the envelope and the headers are checked first: 400, the request id kept', () => {
  const meta = (drop: string) => {
    const full: Record<string, unknown> = {
      'io.modelcontextprotocol/protocolVersion': MODERN,
      'io.modelcontextprotocol/clientCapabilities': {},
    }
    delete full[drop]
    return full
  }

  test('a missing or malformed _meta is -32602 naming the field', async () => {
    const raw = (id: string, params: Record<string, unknown>) =>
      post(url, { jsonrpc: '2.0', id, method: 'tools/list', params }, { 'mcp-protocol-version': MODERN, 'mcp-method': 'tools/list' }).then(readReply)
    expectRefused(await raw('e1', {}), 400, -32602, 'e1', '"params._meta"')
    expectRefused(await raw('e2', { _meta: meta('io.modelcontextprotocol/protocolVersion') }), 400, -32602, 'e2', 'io.modelcontextprotocol/protocolVersion')
    expectRefused(await raw('e3', { _meta: meta('io.modelcontextprotocol/clientCapabilities') }), 400, -32602, 'e3', 'io.modelcontextprotocol/clientCapabilities" must be an object')
    const badInfo = await modernCall(url, 'tools/list', {}, { id: 'e4', meta: { 'io.modelcontextprotocol/clientInfo': { name: 'x' } } })
    expectRefused(badInfo, 400, -32602, 'e4', 'clientInfo" must be an object with string "name" and "version"')
    const badLevel = await modernCall(url, 'tools/list', {}, { id: 'e5', meta: { 'io.modelcontextprotocol/logLevel': 'loud' } })
    expectRefused(badLevel, 400, -32602, 'e5', 'logLevel" must be one of debug')
    // clientInfo is optional.
    expect((await modernCall(url, 'tools/list', {}, { meta: { 'io.modelcontextprotocol/clientInfo': undefined } })).status).toBe(200)
  })

  test('the version header is required and must equal _meta (-32020); a version not served is -32022 naming the served ones', async () => {
    expectRefused(await modernCall(url, 'tools/list', {}, { id: 'v1', headers: { 'mcp-protocol-version': null } }), 400, -32020, 'v1', 'MCP-Protocol-Version header is required')
    const mismatch = await modernCall(url, 'tools/list', {}, { id: 'v2', meta: { 'io.modelcontextprotocol/protocolVersion': '2027-01-01' } })
    expectRefused(mismatch, 400, -32020, 'v2', 'MCP-Protocol-Version says "2026-07-28" but _meta')
    const unserved = await modernCall(url, 'tools/list', {}, { id: 'v3', meta: { 'io.modelcontextprotocol/protocolVersion': '2027-01-01' }, headers: { 'mcp-protocol-version': '2027-01-01' } })
    expectRefused(unserved, 400, -32022, 'v3', 'this endpoint serves 2026-07-28 per request')
    expect(unserved.body.error?.data).toEqual({ supported: [MODERN], requested: '2027-01-01' })
  })

  test('Mcp-Method and Mcp-Name must be present and equal the body (values are case-sensitive, Base64 decoded)', async () => {
    const call = { name: 'echo', arguments: { text: 'hi' } }
    expectRefused(await modernCall(url, 'tools/call', call, { id: 'h1', headers: { 'mcp-method': null } }), 400, -32020, 'h1', 'Mcp-Method header is required')
    expectRefused(await modernCall(url, 'tools/call', call, { id: 'h2', headers: { 'mcp-method': 'TOOLS/CALL' } }), 400, -32020, 'h2', 'Mcp-Method says "TOOLS/CALL"')
    expectRefused(await modernCall(url, 'tools/call', call, { id: 'h3', headers: { 'mcp-name': null } }), 400, -32020, 'h3', 'Mcp-Name header is required for tools/call')
    expectRefused(await modernCall(url, 'tools/call', call, { id: 'h4', headers: { 'mcp-name': 'test_simple_text' } }), 400, -32020, 'h4', 'Mcp-Name says "test_simple_text" but params.name is "echo"')
    expectRefused(await modernCall(url, 'tools/call', call, { id: 'h5', headers: { 'mcp-name': '=?base64?ZWNo!!?=' } }), 400, -32020, 'h5', 'Mcp-Name is not a valid header value')
    const encoded = await modernCall(url, 'tools/call', call, { headers: { 'mcp-name': `=?base64?${btoa('echo')}?=` } })
    expect(encoded.body.result?.content).toEqual([{ type: 'text', text: 'hi' }])
    const read = await modernCall(url, 'resources/read', { uri: 'test://static-text' }, { id: 'h6', headers: { 'mcp-name': 'test://static-binary' } })
    expectRefused(read, 400, -32020, 'h6', 'but params.uri is "test://static-text"')
  })

  test("an argument a tool mirrors with x-mcp-header needs its Mcp-Param header, equal to the body's value", async () => {
    const call = { name: 'test_header_param', arguments: { region: 'us-west1' } }
    expectRefused(await modernCall(url, 'tools/call', call, { id: 'p1' }), 400, -32020, 'p1', 'Mcp-Param-Region header is required: tool "test_header_param" mirrors arguments.region')
    expectRefused(await modernCall(url, 'tools/call', call, { id: 'p2', headers: { 'mcp-param-region': 'eu-north1' } }), 400, -32020, 'p2', 'Mcp-Param-Region says "eu-north1" but arguments.region is "us-west1"')
    for (const value of ['us-west1', `=?base64?${btoa('us-west1')}?=`]) {
      const ok = await modernCall(url, 'tools/call', call, { headers: { 'mcp-param-region': value } })
      expect(ok.body.result?.content).toEqual([{ type: 'text', text: 'region=us-west1' }])
    }
  })
})

describe('results', () => {
  test('every result has resultType and the server identity; lists and reads carry caching hints', async () => {
    const tools = await modernCall(url, 'tools/list')
    expect(tools.body.result).toMatchObject({ resultType: 'complete', ttlMs: 60_000, cacheScope: 'private', _meta: SERVER_INFO() })
    expect((tools.body.result!.tools as { name: string }[]).map((t) => t.name)).toEqual(server.registry.tools().map((t) => t.definition.name))
    const read = await modernCall(url, 'resources/read', { uri: 'test://static-text' })
    expect(read.body.result).toMatchObject({ resultType: 'complete', ttlMs: 0, cacheScope: 'private' })
    const call = await modernCall(url, 'tools/call', { name: 'test_simple_text', arguments: {} })
    expect(call.body.result).toEqual({ resultType: 'complete', content: [{ type: 'text', text: 'This is a simple text response for testing.' }], _meta: SERVER_INFO() })
  })

  test('an unknown resource is -32602 with the uri in data (2025 sessions keep -32002)', async () => {
    const r = await modernCall(url, 'resources/read', { uri: 'test://missing' }, { id: 'r1' })
    expect({ status: r.status, body: r.body }).toEqual({
      status: 200,
      body: { jsonrpc: '2.0', id: 'r1', error: { code: -32602, message: 'Resource not found: test://missing', data: { uri: 'test://missing' } } },
    })
  })

  test('log lines reach a request only at or above the level its _meta names, and none without one', async () => {
    const call = { name: 'test_tool_with_logging', arguments: {} }
    const silent = await modernCall(url, 'tools/call', call)
    expect({ sse: silent.sse, notifications: silent.notifications }).toEqual({ sse: false, notifications: [] })
    const info = await modernCall(url, 'tools/call', call, { meta: { 'io.modelcontextprotocol/logLevel': 'info' } })
    expect(info.notifications.map((n) => (n.params as { data: string }).data)).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed'])
    expect(info.body.result?.resultType).toBe('complete')
    const warning = await modernCall(url, 'tools/call', call, { meta: { 'io.modelcontextprotocol/logLevel': 'warning' } })
    expect(warning.notifications).toEqual([])
  })

  test('progress goes on the request\'s own SSE stream, ended by its response', async () => {
    const r = await modernCall(url, 'tools/call', { name: 'test_tool_with_progress', arguments: {} }, { id: 'g1', meta: { progressToken: 'tok' } })
    expect(r.sse).toBe(true)
    expect(r.headers.get('x-accel-buffering')).toBe('no')
    expect(r.notifications.map((n) => (n.params as { progress: number }).progress)).toEqual([0, 50, 100])
    expect(r.body).toMatchObject({ id: 'g1', result: { resultType: 'complete', content: [{ type: 'text', text: 'Progress reported: 0, 50, 100' }] } })
  })

  test('closing the response stream cancels the request (the handler sees its signal abort)', async () => {
    const record = { aborted: false }
    server.registry.tool({
      name: 'modern_waits',
      tier: 'public',
      handler: async (_args, ctx) => {
        await ctx.progress(1)
        await waitForAbort(ctx.signal, 10_000, record)
        return { content: [] }
      },
    })
    try {
      const { body, headers } = modernRequest('tools/call', { name: 'modern_waits', arguments: {} }, { meta: { progressToken: 1 } })
      const reader = new SseReader(await post(url, body, headers))
      expect((await reader.next(5000))?.json).toMatchObject({ method: 'notifications/progress' })
      await reader.cancel()
      await until(() => record.aborted, 5000, 'the handler to see the cancellation')
      await until(() => server.core.inFlight === 0, 5000, 'the call to end')
    } finally {
      server.registry.removeTool('modern_waits')
    }
  })
})

describe('input_required rounds', () => {
  const elicit = { name: 'test_input_required_result_elicitation', arguments: {} }
  const accept = (content: Record<string, unknown>) => ({ action: 'accept', content })

  test('an ask the client has not answered ends the round; the retry with the answer and the state completes', async () => {
    const round1 = await modernCall(url, 'tools/call', elicit, { capabilities: { elicitation: {} } })
    const state = round1.body.result?.requestState as string
    expect(round1.body.result).toEqual({
      resultType: 'input_required',
      inputRequests: {
        user_name: {
          method: 'elicitation/create',
          params: { message: 'What is your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }, mode: 'form' },
        },
      },
      requestState: state,
      _meta: SERVER_INFO(),
    })
    expect(state).toMatch(/^rs1\.[\w-]+\.[\w-]+$/)
    const round2 = await modernCall(url, 'tools/call', { ...elicit, inputResponses: { user_name: accept({ name: 'Ada' }) }, requestState: state }, { id: 2, capabilities: { elicitation: {} } })
    expect(round2.body.result).toEqual({ resultType: 'complete', content: [{ type: 'text', text: 'Hello, Ada!' }], _meta: SERVER_INFO() })
  })

  test('answers travel sealed: a later round carries them without showing them', async () => {
    const multi = { name: 'test_input_required_result_multi_round', arguments: {} }
    const caps = { capabilities: { elicitation: {} } }
    const r1 = await modernCall(url, 'tools/call', multi, caps)
    const r2 = await modernCall(url, 'tools/call', { ...multi, inputResponses: { step1: accept({ name: 'Ada Lovelace' }) }, requestState: r1.body.result!.requestState }, caps)
    expect(Object.keys(r2.body.result!.inputRequests as object)).toEqual(['step2'])
    const state = r2.body.result!.requestState as string
    for (const part of state.split('.')) expect(Buffer.from(part, 'base64url').toString('latin1')).not.toContain('Lovelace')
    // Only the state carries step1 now: the retry sends step2 alone.
    const r3 = await modernCall(url, 'tools/call', { ...multi, inputResponses: { step2: accept({ color: 'blue' }) }, requestState: state }, caps)
    expect(r3.body.result?.content).toEqual([{ type: 'text', text: 'Ada Lovelace likes blue' }])
  })

  test('another instance with the same secret continues the request; one with another secret refuses the state', async () => {
    const caps = { capabilities: { elicitation: {} } }
    const round1 = await modernCall(url, 'tools/call', elicit, caps)
    const retry = { ...elicit, inputResponses: { user_name: accept({ name: 'Grace' }) }, requestState: round1.body.result!.requestState }
    const there = await modernCall(sibling.mcpUrl, 'tools/call', retry, caps)
    expect(there.body.result?.content).toEqual([{ type: 'text', text: 'Hello, Grace!' }])
    const foreign = await modernCall(stranger.mcpUrl, 'tools/call', retry, { ...caps, id: 's1' })
    expect(foreign.body).toMatchObject({ id: 's1', error: { code: -32602, data: { reason: 'invalid_request_state' } } })
    expect(foreign.body.error?.message).toContain('sealed by a server with another secret')
  })

  test('a tampered state, or one presented for another request, is refused with -32602 saying how to start over', async () => {
    const caps = { capabilities: { elicitation: {} } }
    const state = (await modernCall(url, 'tools/call', elicit, caps)).body.result!.requestState as string
    const middle = Math.floor(state.length / 2)
    const flipped = state.slice(0, middle) + (state[middle] === 'A' ? 'B' : 'A') + state.slice(middle + 1)
    const answers = { user_name: accept({ name: 'Mallory' }) }
    for (const bad of [flipped, `${state}-TAMPERED`, `${state}A`, 'rs1.x.y', 42]) {
      const r = await modernCall(url, 'tools/call', { ...elicit, inputResponses: answers, requestState: bad }, caps)
      expect(r.body.error).toMatchObject({ code: -32602, data: { reason: 'invalid_request_state' } })
      expect(r.body.error?.message).toContain('Send the original request again without requestState and inputResponses to start over')
    }
    const otherTool = await modernCall(url, 'tools/call', { name: 'test_input_required_result_tampered_state', arguments: {}, inputResponses: answers, requestState: state }, caps)
    expect(otherTool.body.error?.message).toContain('issued to another caller or for another request')
    const otherArgs = await modernCall(url, 'tools/call', { ...elicit, arguments: { extra: true }, inputResponses: answers, requestState: state }, caps)
    expect(otherArgs.body.error?.data).toEqual({ reason: 'invalid_request_state' })
  })

  test('malformed inputResponses are -32602; a missing answer is asked for again; extra answers are ignored', async () => {
    const caps = { capabilities: { elicitation: {} } }
    const nul = await modernCall(url, 'tools/call', { ...elicit, inputResponses: null }, caps)
    expect(nul.body.error).toMatchObject({ code: -32602, message: expect.stringContaining('"inputResponses" must be an object') })
    const num = await modernCall(url, 'tools/call', { ...elicit, inputResponses: { user_name: 12345 } }, caps)
    expect(num.body.error).toMatchObject({ code: -32602, message: expect.stringContaining('inputResponses["user_name"] is not a valid elicitation/create result') })
    const noAction = await modernCall(url, 'tools/call', { ...elicit, inputResponses: { user_name: { content: {} } } }, caps)
    expect(noAction.body.error?.message).toContain('"action" must be "accept", "decline" or "cancel"')
    const wrongKey = await modernCall(url, 'tools/call', { ...elicit, inputResponses: { wrong_key: accept({ name: 'x' }) } }, caps)
    expect(wrongKey.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { user_name: { method: 'elicitation/create' } } })
    const extra = await modernCall(url, 'tools/call', { ...elicit, inputResponses: { user_name: accept({ name: 'Bo' }), other: { anything: 1 } } }, caps)
    expect(extra.body.result?.content).toEqual([{ type: 'text', text: 'Hello, Bo!' }])
  })

  test('asking for a capability the request did not declare is 400 -32021 naming it; a 2025 session gets isError as before', async () => {
    const r = await modernCall(url, 'tools/call', { name: 'test_sampling', arguments: { prompt: 'x' } }, { id: 'c1' })
    expectRefused(r, 400, -32021, 'c1', 'The client did not declare the "sampling" capability')
    expect(r.body.error?.data).toEqual({ requiredCapabilities: { sampling: {} } })
    const elicitation = await modernCall(url, 'tools/call', { name: 'test_elicitation', arguments: { message: 'x' } }, { id: 'c2' })
    expect(elicitation.body.error?.data).toEqual({ requiredCapabilities: { elicitation: { form: {} } } })
    const roots = await modernCall(url, 'tools/call', { name: 'test_input_required_result_list_roots', arguments: {} }, { id: 'c3' })
    expect(roots.body.error?.data).toEqual({ requiredCapabilities: { roots: {} } })
    // A handler that asks only for what was declared is not refused.
    const choosy = await modernCall(url, 'tools/call', { name: 'test_input_required_result_capabilities', arguments: {} }, { capabilities: { sampling: {} } })
    expect(Object.values(choosy.body.result!.inputRequests as Record<string, { method: string }>).map((i) => i.method)).toEqual(['sampling/createMessage'])
    const session = await openSession(url)
    const legacy = await post(url, { jsonrpc: '2.0', id: 'c4', method: 'tools/call', params: { name: 'test_sampling', arguments: { prompt: 'x' } } }, session.headers)
    expect(await legacy.json()).toEqual({
      jsonrpc: '2.0',
      id: 'c4',
      result: { content: [{ type: 'text', text: 'The client did not declare the "sampling" capability' }], isError: true },
    })
  })

  test('a round that stops abandons its handler: work it runs alongside the ask sees its signal abort', async () => {
    const record = { aborted: false }
    server.registry.tool({
      name: 'modern_asks_while_working',
      tier: 'public',
      handler: async (_args, ctx) => {
        // "constructor" as a key: answers are looked up as own keys, never on Object.prototype.
        const [answer] = await Promise.all([ctx.elicit({ message: 'Go?', requestedSchema: { type: 'object', properties: {} } }, { key: 'constructor' }), waitForAbort(ctx.signal, 10_000, record)])
        return { content: [{ type: 'text', text: answer.action }] }
      },
    })
    try {
      const r = await modernCall(url, 'tools/call', { name: 'modern_asks_while_working', arguments: {} }, { capabilities: { elicitation: {} } })
      expect(r.body.result).toMatchObject({ resultType: 'input_required', inputRequests: { constructor: { method: 'elicitation/create' } } })
      await until(() => record.aborted, 5000, 'the abandoned handler to see its signal abort')
    } finally {
      server.registry.removeTool('modern_asks_while_working')
    }
  })

  test('tools/list and prompts/list never answer input_required', async () => {
    for (const method of ['tools/list', 'prompts/list']) expect((await modernCall(url, method)).body.result?.resultType).toBe('complete')
  })
})

describe('subscriptions/listen', () => {
  async function listen(notifications: unknown, id: string | number = 'sub-1') {
    const { body, headers } = modernRequest('subscriptions/listen', { notifications }, { id })
    const res = await post(url, body, headers)
    return { res, reader: res.headers.get('content-type')?.startsWith('text/event-stream') ? new SseReader(res) : undefined }
  }

  test('the acknowledgement comes first with the honoured filter; then only the asked-for changes, tagged with the subscription', async () => {
    const { res, reader } = await listen({ toolsListChanged: true, resourceSubscriptions: ['test://watched-resource', 'test://nowhere'], bogus: true })
    expect({ status: res.status, session: res.headers.get('mcp-session-id') }).toEqual({ status: 200, session: null })
    expect((await reader!.next(5000))?.json).toEqual({
      jsonrpc: '2.0',
      method: 'notifications/subscriptions/acknowledged',
      params: { _meta: { 'io.modelcontextprotocol/subscriptionId': 'sub-1' }, notifications: { toolsListChanged: true, resourceSubscriptions: ['test://watched-resource'] } },
    })
    // A prompt change was not asked for; the tool change and the resource update were.
    await modernCall(url, 'tools/call', { name: 'test_trigger_prompt_change', arguments: {} })
    await modernCall(url, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} })
    await server.core.resourceUpdated('test://watched-resource')
    const tag = { 'io.modelcontextprotocol/subscriptionId': 'sub-1' }
    expect((await reader!.next(5000))?.json).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: tag } })
    expect((await reader!.next(5000))?.json).toEqual({ jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'test://watched-resource', _meta: tag } })
    await reader!.cancel()
    await until(() => server.core.subscriptions.size === 0, 5000, 'the closed subscription to be dropped')
    // Put the lists back as they were.
    await modernCall(url, 'tools/call', { name: 'test_trigger_prompt_change', arguments: {} })
    await modernCall(url, 'tools/call', { name: 'test_trigger_tool_change', arguments: {} })
  })

  test('a filter that is not an object is -32602 (a JSON answer, no stream)', async () => {
    const { res } = await listen('everything', 'sub-2')
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ id: 'sub-2', error: { code: -32602, message: expect.stringContaining('needs "notifications", an object') } })
  })

  test('a server shutting down ends each listen stream with the listen result', async () => {
    const own = await startTestServer()
    const { body, headers } = modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } }, { id: 7 })
    const reader = new SseReader(await fetch(own.mcpUrl, { method: 'POST', headers: { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...headers }, body: JSON.stringify(body) }))
    expect((await reader.next(5000))?.json?.method).toBe('notifications/subscriptions/acknowledged')
    await own.stop()
    expect((await reader.next(5000))?.json).toEqual({
      jsonrpc: '2.0',
      id: 7,
      result: { resultType: 'complete', _meta: { 'io.modelcontextprotocol/subscriptionId': 7, 'io.modelcontextprotocol/serverInfo': { name: 'mcprag', title: 'mcprag', version: own.core.info.version } } },
    })
    expect(await reader.next(5000)).toBeUndefined()
  })
})
