/**
 * What a body may cost before it is parsed and validated (issue 13: H3, I9, H2's echo), through the
 * front door of every transport that takes JSON: /mcp, legacy /messages, /mcp/ws and REST, each
 * with the server's default limits (1 MiB, 64 levels, 4096 keys). The attacks are the probe's:
 * a body of unknown argument keys, a million nested brackets, a 4 MB method name.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bearer, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { post, type RawSession } from '../_utils/http.ts'
import { openLegacyStream, postMessage } from '../_utils/legacy-sse.ts'
import { McpSocket } from '../_utils/ws.ts'

let h: Harness
let user: Login
let session: RawSession
beforeAll(async () => {
  h = await startHarness({ MCPRAG_SIGNUP: 'open' })
  user = await signIn(h, 'pub@example.com')
  session = await openSessionAs(user.token)
})
afterAll(() => h.stop())

async function openSessionAs(token: string): Promise<RawSession> {
  const res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, bearer(token))
  const id = res.headers.get('mcp-session-id')!
  return { id, protocolVersion: '2025-11-25', headers: { ...bearer(token), 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' } }
}

/** `{"k0":0,"k1":0,…}` with `n` keys, as JSON text. */
const wideObject = (n: number) => `{${Array.from({ length: n }, (_, i) => `"k${i}":0`).join(',')}}`
const echoWith = (argumentsJson: string, id: number | string = 1) =>
  `{"jsonrpc":"2.0","id":${JSON.stringify(id)},"method":"tools/call","params":{"name":"echo","arguments":${argumentsJson}}}`
/** Arguments of a valid echo call plus one field nested `depth` levels deep. */
const deepArguments = (depth: number) => `{"text":"x","deep":${'['.repeat(depth)}${']'.repeat(depth)}}`

describe('invalid arguments cost a bounded answer (H3)', () => {
  test('REST: 4 000 unknown keys are one 422 naming the first problem only, in a small body', async () => {
    const res = await restPost(`${h.url}/mcp/tool/echo`, wideObject(4000), bearer(user.token))
    const text = await res.text()
    expect(res.status).toBe(422)
    expect(text.length).toBeLessThan(4096)
    const body = JSON.parse(text) as { error: string; problems: string[]; fields: string[]; message: string }
    expect(body.error).toBe('invalid_arguments')
    // Past a few hundred values validation stops at the first problem: the cost does not grow with the body.
    expect(body.problems).toEqual(['missing required field "text"'])
    expect(body.fields).toEqual(['text'])
  })

  test('MCP: the same body is one isError result of bounded size', async () => {
    const res = await post(`${h.url}/mcp`, echoWith(wideObject(4000)), session.headers)
    const text = await res.text()
    expect(res.status).toBe(200)
    expect(text.length).toBeLessThan(4096)
    const body = JSON.parse(text) as { result: { isError: boolean; content: { text: string }[] } }
    expect(body.result.isError).toBe(true)
    expect(body.result.content[0]!.text).toStartWith('Invalid arguments for tool echo: ')
  })

  test('a small wrong body still hears about every problem at once (up to 10), with the field names', async () => {
    const res = await restPost(`${h.url}/mcp/tool/echo`, { text: 5, a: 1, b: 2 }, bearer(user.token))
    expect(res.status).toBe(422)
    const body = (await res.json()) as { fields: string[] }
    expect(body.fields.sort()).toEqual(['a', 'b', 'text'])
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}`, i]))
    const capped = (await (await restPost(`${h.url}/mcp/tool/echo`, many, bearer(user.token))).json()) as { problems: string[] }
    expect(capped.problems).toHaveLength(10)
  })

  test('a field name of 100 000 characters comes back clipped', async () => {
    const res = await restPost(`${h.url}/mcp/tool/echo`, { text: 'x', ['n'.repeat(100_000)]: 1 }, bearer(user.token))
    expect(res.status).toBe(422)
    expect((await res.text()).length).toBeLessThan(2048)
  })

  test('REST validates the arguments once per call', async () => {
    const tool = h.server.registry.getTool('echo')! as { validateInput: (v: unknown) => unknown }
    const original = tool.validateInput
    let runs = 0
    tool.validateInput = (v) => {
      runs++
      return original(v)
    }
    try {
      expect((await restPost(`${h.url}/mcp/tool/echo`, { nope: 1 }, bearer(user.token))).status).toBe(422)
      expect(runs).toBe(1)
    } finally {
      tool.validateInput = original
    }
  })
})

describe('bodies are refused before they are parsed (H3, I9)', () => {
  test('the probe\'s 4 MB body of unknown keys is 413 on /mcp and REST, and so is anything past 1 MiB by default', async () => {
    const body = wideObject(400_000)
    expect(body.length).toBeGreaterThan(4_000_000)
    // Past twice the limit Bun itself refuses it, before any handler runs.
    expect((await post(`${h.url}/mcp`, echoWith(body), session.headers)).status).toBe(413)
    expect((await restPost(`${h.url}/mcp/tool/echo`, body, bearer(user.token))).status).toBe(413)
    const big = JSON.stringify({ text: 'x'.repeat(1_500_000) })
    const mcp = await post(`${h.url}/mcp`, echoWith(big), session.headers)
    expect(mcp.status).toBe(413)
    expect(((await mcp.json()) as { error: { code: number; message: string } }).error).toEqual({ code: -32600, message: 'Payload Too Large: the body exceeds 1048576 bytes' })
    expect((await restPost(`${h.url}/mcp/tool/echo`, big, bearer(user.token))).status).toBe(413)
  })

  test('more than 4096 keys within the byte limit are 413, whatever the transport', async () => {
    const body = wideObject(20_000)
    expect(body.length).toBeLessThan(1024 * 1024)
    const mcp = await post(`${h.url}/mcp`, echoWith(body), session.headers)
    expect(mcp.status).toBe(413)
    expect(((await mcp.json()) as { error: { message: string } }).error.message).toContain('more than 4096 object keys')
    const rest = await restPost(`${h.url}/mcp/tool/echo`, body, bearer(user.token))
    expect(rest.status).toBe(413)
    expect(((await rest.json()) as { error: string }).error).toBe('payload_too_large')
  })

  test('a document nested 500 000 levels deep is 400 (-32600) naming the limit, on /mcp, legacy SSE, WebSocket and REST', async () => {
    const deep = deepArguments(500_000)
    const mcp = await post(`${h.url}/mcp`, echoWith(deep), session.headers)
    expect(mcp.status).toBe(400)
    const error = ((await mcp.json()) as { error: { code: number; message: string } }).error
    expect(error.code).toBe(-32600)
    expect(error.message).toContain('deeper than 64 levels')

    const { sse, endpoint } = await openLegacyStream(`${h.url}/sse`, bearer(user.token))
    const legacy = await postMessage(endpoint, echoWith(deep), bearer(user.token))
    expect(legacy.status).toBe(400)
    expect(((await legacy.json()) as { error: { message: string } }).error.message).toContain('deeper than 64 levels')
    await sse.close()

    const rest = await restPost(`${h.url}/mcp/tool/echo`, deep, bearer(user.token))
    expect(rest.status).toBe(400)
    expect(((await rest.json()) as { message: string }).message).toContain('deeper than 64 levels')

    const ws = await McpSocket.connect(`${h.url.replace('http', 'ws')}/mcp/ws`, bearer(user.token))
    ws.send(echoWith(deepArguments(1000), 'deep'))
    await Bun.sleep(200)
    // Not attributable to a request it could not read: answered with id null.
    expect(ws.messages.at(-1)).toMatchObject({ id: null, error: { code: -32600, message: expect.stringContaining('deeper than 64 levels') } })
    ws.close()
  })

  test('65 levels are refused, 64 are not (the limit is exact)', async () => {
    const at = (depth: number) => post(`${h.url}/mcp`, echoWith(`{"text":"x","deep":${'['.repeat(depth - 3)}${']'.repeat(depth - 3)}}`), session.headers)
    // The message, params and arguments objects are three levels already.
    expect((await at(64)).status).toBe(200)
    expect((await at(65)).status).toBe(400)
  })
})

describe('answers never echo unbounded input (H2)', () => {
  test('an unknown 1 MB method name comes back clipped, on /mcp and on the legacy stream', async () => {
    const method = 'm'.repeat(1_000_000)
    const res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 9, method }, session.headers)
    const text = await res.text()
    expect(text.length).toBeLessThan(1024)
    expect(JSON.parse(text)).toMatchObject({ error: { code: -32601, message: expect.stringContaining('(1000000 characters)') } })

    const { sse, endpoint } = await openLegacyStream(`${h.url}/sse`, bearer(user.token))
    expect((await postMessage(endpoint, { jsonrpc: '2.0', id: 'big', method }, bearer(user.token))).status).toBe(202)
    const reply = await sse.reply('big')
    expect(JSON.stringify(reply).length).toBeLessThan(1024)
    await sse.close()
  })

  test('unknown tool names are counted under one metrics label, never a series each', async () => {
    for (const name of ['nope-1', 'nope-2', 'nope-3'])
      await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: name, method: 'tools/call', params: { name } }, session.headers)
    const metrics = await (await fetch(`${h.url}/metrics`)).text()
    expect(metrics).not.toContain('nope-')
    expect(metrics).toMatch(/mcprag_tool_calls_total\{tool="\(unknown\)",outcome="unknown_tool",transport="streamable-http"\} [3-9]/)
  })

  test('an unknown tool name of 100 000 characters comes back clipped', async () => {
    const res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 10, method: 'tools/call', params: { name: 't'.repeat(100_000) } }, session.headers)
    const text = await res.text()
    expect(text.length).toBeLessThan(1024)
    expect(JSON.parse(text)).toMatchObject({ error: { code: -32602, message: expect.stringContaining('Unknown tool') } })
  })
})

test('every JSON answer says nosniff (I9)', async () => {
  const answers = await Promise.all([
    fetch(`${h.url}/health`),
    fetch(`${h.url}/openapi.json`),
    fetch(`${h.url}/no-such-route`),
    fetch(`${h.url}/mcp/tools`),
    fetch(`${h.url}/mcp/tools`, { headers: bearer(user.token) }),
    restPost(`${h.url}/mcp/tool/echo`, { text: 'hi' }, bearer(user.token)),
    restPost(`${h.url}/auth/login`, { email: 'nope' }),
    post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'nope' }, session.headers),
    post(`${h.url}/mcp`, '{', session.headers),
    post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }),
  ])
  for (const res of answers) {
    expect(res.headers.get('content-type')).toStartWith('application/json')
    expect({ url: res.url, nosniff: res.headers.get('x-content-type-options') }).toEqual({ url: res.url, nosniff: 'nosniff' })
  }
})
