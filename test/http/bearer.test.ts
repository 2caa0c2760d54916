/**
 * Bearer authentication on every protected endpoint, over a real port: 401 with the resource
 * metadata challenge (T-A1), no tokens from the URL (MCP-4), a session id is not authentication
 * (T-A2, T-G1, T-G2), forged tokens over the wire (T-B1, T-B5), protected-resource metadata,
 * logout revoking the token and closing open Streamable HTTP streams (T-C4), and an SDK client
 * that passes a token.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { bearer, mcpCall, mcpSession, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { SseReader, post } from '../_utils/http.ts'
import { forgeJwt } from '../_utils/jwt.ts'

let h: Harness
let ada: Login
let bob: Login
beforeAll(async () => {
  h = await startHarness()
  ada = await signIn(h, 'ada@example.com', 'user')
  bob = await signIn(h, 'bob@example.com', 'user')
})
afterAll(() => h.stop())

/** Each endpoint's 401 points at its own metadata document (RFC 9728 §5.1), with the baseline scope. */
const challenge = (endpoint: string) => `Bearer resource_metadata="${h.url}/.well-known/oauth-protected-resource${endpoint}", scope="mcp:tools"`
const initialize = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }

describe('no token: 401 with WWW-Authenticate resource_metadata on every protected endpoint (T-A1)', () => {
  const endpoints: [string, string, () => Promise<Response>][] = [
    ['POST /mcp initialize', '/mcp', () => post(`${h.url}/mcp`, initialize)],
    ['POST /mcp tools/call', '/mcp', () => post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } })],
    ['GET /mcp', '/mcp', () => fetch(`${h.url}/mcp`, { headers: { accept: 'text/event-stream' } })],
    ['DELETE /mcp', '/mcp', () => fetch(`${h.url}/mcp`, { method: 'DELETE', headers: { 'mcp-session-id': 'x' } })],
    ['GET /sse', '/sse', () => fetch(`${h.url}/sse`, { headers: { accept: 'text/event-stream' } })],
    ['GET /mcp/sse', '/mcp/sse', () => fetch(`${h.url}/mcp/sse`, { headers: { accept: 'text/event-stream' } })],
    ['POST /messages', '/sse', () => post(`${h.url}/messages?sessionId=x`, { jsonrpc: '2.0', id: 1, method: 'ping' })],
    ['GET /mcp/tools', '', () => fetch(`${h.url}/mcp/tools`)],
    ['POST /mcp/tool/echo', '', () => restPost(`${h.url}/mcp/tool/echo`, { text: 'x' })],
    ['POST /auth/logout', '', () => restPost(`${h.url}/auth/logout`, {})],
    ['WebSocket upgrade /mcp/ws', '/mcp/ws', () => fetch(`${h.url}/mcp/ws`, { headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-protocol': 'mcp' } })],
  ]
  for (const [name, endpoint, send] of endpoints)
    test(name, async () => {
      const res = await send()
      expect(res.status).toBe(401)
      expect(res.headers.get('www-authenticate')).toBe(challenge(endpoint))
    })

  test('a WebSocket client without a token never opens', async () => {
    const ws = new WebSocket(`${h.url.replace('http', 'ws')}/mcp/ws`, ['mcp'])
    const outcome = await new Promise<string>((resolve) => {
      ws.onopen = () => resolve('open')
      ws.onerror = () => resolve('error')
      ws.onclose = () => resolve('closed')
    })
    expect(outcome).not.toBe('open')
  })

  test('the tool did not run: no tool call was audited', async () => {
    expect(await h.server.auth!.audit.query({ limit: 10, kind: 'tool_call' })).toEqual([])
  })
})

test('a token in the query string is ignored (MCP-4)', async () => {
  for (const q of [`access_token=${ada.token}`, `token=${ada.token}`]) {
    expect((await post(`${h.url}/mcp?${q}`, initialize)).status).toBe(401)
    expect((await fetch(`${h.url}/mcp/tools?${q}`)).status).toBe(401)
  }
})

test('an invalid token is 401 with error="invalid_token"; forged tokens too (T-B1, T-B5)', async () => {
  const userId = ada.user_id
  const forged = [
    'garbage',
    forgeJwt({ alg: 'none', typ: 'at+jwt' }, { sub: userId, jti: 'x', iss: h.url, aud: h.url, iat: 1, exp: 9e9 }),
    forgeJwt({ alg: 'HS256', typ: 'at+jwt' }, { sub: userId, jti: 'x', iss: h.url, aud: h.url, iat: Math.floor(Date.now() / 1000), exp: 9e9 }, 'guessed-secret'),
    `${ada.token.split('.').slice(0, 2).join('.')}.`,
  ]
  for (const token of forged) {
    const res = await post(`${h.url}/mcp`, initialize, bearer(token))
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain(`resource_metadata="${h.url}/.well-known/oauth-protected-resource/mcp", scope="mcp:tools", error="invalid_token"`)
  }
  // A login (magic-link) token is not a bearer token.
  const { requestLogin } = await import('../_utils/auth.ts')
  const { token: magic } = await requestLogin(h, 'ada@example.com')
  expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(magic) })).status).toBe(401)
  expect((await fetch(`${h.url}/mcp/tools`, { headers: { authorization: `Basic ${btoa('ada:pw')}` } })).status).toBe(401)
})

test('protected-resource metadata is served at the root and /mcp paths, readable cross-origin', async () => {
  for (const [path, resource] of [['/.well-known/oauth-protected-resource', h.url], ['/.well-known/oauth-protected-resource/mcp', `${h.url}/mcp`]] as const) {
    const res = await fetch(`${h.url}${path}`, { headers: { origin: 'https://inspector.example' } })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(await res.json()).toMatchObject({ resource, authorization_servers: [h.url], bearer_methods_supported: ['header'] })
  }
})

describe('a session id is not authentication', () => {
  test('the token is needed on every request of a session (T-A2)', async () => {
    const s = await mcpSession(h, ada.token)
    const { authorization: _, ...noToken } = s.headers
    expect((await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, noToken)).status).toBe(401)
    expect((await mcpCall(h, s, 'tools/list', {})).status).toBe(200)
  })

  test('another user\'s session id is 404 on POST, GET and DELETE, and the session survives (T-G1)', async () => {
    const s = await mcpSession(h, ada.token)
    const asBob = { ...s.headers, ...bearer(bob.token) }
    expect((await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 2, method: 'tools/list' }, asBob)).status).toBe(404)
    expect((await fetch(`${h.url}/mcp`, { headers: { ...asBob, accept: 'text/event-stream' } })).status).toBe(404)
    expect((await fetch(`${h.url}/mcp`, { method: 'DELETE', headers: asBob })).status).toBe(404)
    expect((await mcpCall(h, s, 'tools/list', {})).status).toBe(200)
  })

  test('another user cannot resume a stream of this session with Last-Event-ID (T-G2)', async () => {
    const s = await mcpSession(h, ada.token)
    const eventId = `s-${s.id}:0`
    const asBob = { ...s.headers, ...bearer(bob.token), accept: 'text/event-stream', 'last-event-id': eventId }
    expect((await fetch(`${h.url}/mcp`, { headers: asBob })).status).toBe(404)
    const bobs = await mcpSession(h, bob.token)
    const foreign = await fetch(`${h.url}/mcp`, { headers: { ...bobs.headers, accept: 'text/event-stream', 'last-event-id': eventId } })
    expect(foreign.status).toBe(400)
  })
})

describe('logout', () => {
  test('revokes the token on REST and MCP, and closes its open Streamable HTTP stream (T-C4)', async () => {
    const login = await signIn(h, 'ada@example.com')
    const s = await mcpSession(h, login.token)
    const stream = await fetch(`${h.url}/mcp`, { headers: { ...s.headers, accept: 'text/event-stream' } })
    expect(stream.status).toBe(200)
    const reader = new SseReader(stream)
    await reader.next(1000) // priming event
    const out = await restPost(`${h.url}/auth/logout`, {}, bearer(login.token))
    expect(out.status).toBe(200)
    expect(await out.json()).toEqual({ status: 'signed_out', revoked_sessions: 1 })
    const deadline = Date.now() + 1000
    while (!reader.ended && Date.now() < deadline) await reader.next(50)
    expect(reader.ended).toBe(true)
    expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(login.token) })).status).toBe(401)
    expect((await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 3, method: 'tools/list' }, s.headers)).status).toBe(401)
    expect((await restPost(`${h.url}/auth/logout`, {}, bearer(login.token))).status).toBe(401)
    // Other sessions of the same user are untouched.
    expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(ada.token) })).status).toBe(200)
  })

  test('with {"all": true} every session of the user ends', async () => {
    const a = await signIn(h, 'many@example.com', 'user')
    const b = await signIn(h, 'many@example.com')
    const out = await restPost(`${h.url}/auth/logout`, { all: true }, bearer(a.token))
    expect(await out.json()).toEqual({ status: 'signed_out', revoked_sessions: 2 })
    expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(b.token) })).status).toBe(401)
  })
})

test('the SDK client connects with a bearer token, sees its tools and calls one; without a token it is refused', async () => {
  const client = new Client({ name: 'sdk-auth-test', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`), { requestInit: { headers: bearer(ada.token) } }))
  const { tools } = await client.listTools()
  expect(tools.map((t) => t.name).sort()).toEqual(['analyze_context', 'echo', 'generate_code', 'search_code', 'whoami'])
  expect(await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).toMatchObject({ content: [{ type: 'text', text: 'hi' }] })
  const denied = await client.callTool({ name: 'audit_query', arguments: {} }).catch((e: Error) => e)
  expect(String(denied)).toContain('needs tier "admin"')
  await client.close()
  const anonymous = new Client({ name: 'sdk-auth-test', version: '1.0.0' })
  const err = await anonymous.connect(new StreamableHTTPClientTransport(new URL(`${h.url}/mcp`))).catch((e: Error) => e)
  expect(err).toBeInstanceOf(Error)
})
