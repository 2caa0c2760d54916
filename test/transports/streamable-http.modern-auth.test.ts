/**
 * MCP 2026-07-28 requests with authentication on: the bearer token is checked before anything in
 * the body, tool calls are audited and spend the same per-user budget as 2025 calls, a
 * requestState opens only for the user it was issued to, and signing out closes a listen stream
 * the way it closes a 2025 GET stream. (Tiers and MFA per era: test/http/tier-matrix.test.ts.)
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { bearer, mcpCall, mcpSession, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { post, SseReader } from '../_utils/http.ts'
import { modernCall, modernRequest } from '../_utils/modern.ts'

let h: Harness
let url: string
let ada: Login
let bob: Login
beforeAll(async () => {
  // A small tool budget, shared by both eras; the fixture tools of the MRTR rounds are registered here.
  h = await startHarness({ MCPRAG_RATE_TOOLS_USER: '6/1m', MCPRAG_FIXTURES: 'conformance' })
  url = `${h.url}/mcp`
  ada = await signIn(h, 'ada@example.com', 'user')
  bob = await signIn(h, 'bob@example.com', 'user')
})
afterAll(() => h.stop())

test('without a token a 2026-07-28 request is 401 with the resource metadata, before its envelope is read', async () => {
  const { body } = modernRequest('tools/list')
  const res = await post(url, { ...body, params: {} }, { 'mcp-protocol-version': '2026-07-28' })
  expect(res.status).toBe(401)
  expect(res.headers.get('www-authenticate')).toContain('resource_metadata=')
})

test('each round of a call is audited with its outcome, and a requestState opens only for the user it was issued to', async () => {
  const call = { name: 'test_input_required_result_elicitation', arguments: {} }
  const caps = { capabilities: { elicitation: {} } }
  const round1 = await modernCall(url, 'tools/call', call, { ...caps, auth: bearer(ada.token) })
  const retry = { ...call, inputResponses: { user_name: { action: 'accept', content: { name: 'Ada' } } }, requestState: round1.body.result!.requestState }
  const stolen = await modernCall(url, 'tools/call', retry, { ...caps, auth: bearer(bob.token) })
  expect(stolen.body.error).toMatchObject({ code: -32602, data: { reason: 'invalid_request_state' }, message: expect.stringContaining('issued to another caller') })
  const round2 = await modernCall(url, 'tools/call', retry, { ...caps, auth: bearer(ada.token) })
  expect(round2.body.result?.content).toEqual([{ type: 'text', text: 'Hello, Ada!' }])
  const records = await h.server.auth!.audit.query({ kind: 'tool_call', tool: 'test_input_required_result_elicitation', limit: 10 })
  expect(records.map((r) => ({ user: r.userId, outcome: r.outcome, transport: r.transport })).reverse()).toEqual([
    { user: ada.user_id, outcome: 'input_required', transport: 'streamable-http' },
    { user: ada.user_id, outcome: 'ok', transport: 'streamable-http' },
  ])
})

test('2025 and 2026-07-28 calls spend one tool budget per user, refused alike with -32029', async () => {
  const carol = await signIn(h, 'carol@example.com', 'user')
  const session = await mcpSession(h, carol.token)
  const echo = { name: 'echo', arguments: { text: 'x' } }
  for (let i = 0; i < 3; i++) expect((await mcpCall(h, session, 'tools/call', echo, i + 1)).body.result).toBeDefined()
  for (let i = 0; i < 3; i++) expect((await modernCall(url, 'tools/call', echo, { auth: bearer(carol.token) })).body.result).toBeDefined()
  const modern = await modernCall(url, 'tools/call', echo, { id: 'over', auth: bearer(carol.token) })
  const legacy = await mcpCall(h, session, 'tools/call', echo, 99)
  expect(modern.body).toMatchObject({ id: 'over', error: { code: -32029, data: { retry_after_s: expect.any(Number) } } })
  expect((legacy.body.error as { code: number }).code).toBe(-32029)
})

test('signing out closes the listen streams the token opened', async () => {
  const dave = await signIn(h, 'dave@example.com', 'user')
  const { body, headers } = modernRequest('subscriptions/listen', { notifications: { toolsListChanged: true } })
  const reader = new SseReader(await post(url, body, { ...headers, ...bearer(dave.token) }))
  expect((await reader.next(5000))?.json?.method).toBe('notifications/subscriptions/acknowledged')
  expect((await restPost(`${h.url}/auth/logout`, {}, bearer(dave.token))).status).toBe(200)
  expect(await reader.next(5000)).toBeUndefined()
  expect(reader.ended).toBe(true)
})
