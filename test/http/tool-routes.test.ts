/**
 * GET /mcp/tools and POST /mcp/tool/{name} over a real port: the status contract (200, 401, 403,
 * 404, 400/415/422, 500 without internals), tool-name tricks (T-E10), Origin checks (T-F1, T-F3)
 * and the audit trail the calls leave, read back through the admin tool `audit_query`.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { ToolError } from '../../src/core/errors.ts'
import { argumentsDigest } from '../../src/auth/audit.ts'
import { bearer, enrolTotp, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'

let h: Harness
let user: Login
let admin: Login
beforeAll(async () => {
  h = await startHarness()
  h.server.registry.tool({ name: 'explode', tier: 'public', handler: () => { throw new Error('db password is hunter2 at /srv/secret.conf') } })
  h.server.registry.tool({ name: 'refuse', tier: 'public', handler: () => { throw new ToolError('The index is not built yet: try again later') } })
  user = await signIn(h, 'user@example.com', 'user')
  admin = await signIn(h, 'admin@example.com', 'admin')
  await enrolTotp(h, admin)
})
afterAll(() => h.stop())

const call = (name: string, body: unknown, token?: string, headers: Record<string, string> = {}) =>
  restPost(`${h.url}/mcp/tool/${name}`, body, { ...(token ? bearer(token) : {}), ...headers })

describe('POST /mcp/tool/{name}', () => {
  test('200 with the tool result', async () => {
    const res = await call('echo', { text: 'hello' }, user.token)
    expect(res.status).toBe(200)
    expect(await res.json()).toEqual({ result: { content: [{ type: 'text', text: 'hello' }] } })
  })

  test('an empty body means no arguments', async () => {
    const res = await fetch(`${h.url}/mcp/tool/whoami`, { method: 'POST', headers: bearer(user.token) })
    expect(res.status).toBe(200)
    expect(((await res.json()) as { result: { structuredContent: unknown } }).result.structuredContent).toEqual({ user_id: user.user_id, email: 'user@example.com', tier: 'user' })
  })

  test('401 without or with a bad token, with the resource metadata challenge', async () => {
    const none = await call('echo', { text: 'x' })
    expect(none.status).toBe(401)
    expect(none.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${h.url}/.well-known/oauth-protected-resource", scope="mcp:tools"`)
    const bad = await call('echo', { text: 'x' }, 'not.a.token')
    expect(bad.status).toBe(401)
    expect(bad.headers.get('www-authenticate')).toContain('error="invalid_token"')
  })

  test('403 says whether the tier or MFA is missing', async () => {
    const tier = await call('audit_query', {}, user.token)
    expect(tier.status).toBe(403)
    expect(await tier.json()).toMatchObject({ error: 'insufficient_tier', required_tier: 'admin', message: expect.stringContaining('needs tier "admin"') })
    const other = await signIn(h, 'admin@example.com')
    const mfa = await call('audit_query', {}, other.token)
    expect(mfa.status).toBe(403)
    expect(await mfa.json()).toMatchObject({ error: 'mfa_required', required_tier: 'admin' })
  })

  test('an admin tool is refused (503) while the audit log cannot be written, and runs again once it can', async () => {
    const store = h.server.auth!.stores.audit
    const append = store.append.bind(store)
    store.append = async () => {
      throw new Error('disk full')
    }
    try {
      // Any record fails to store: the next admin call finds the audit log failing.
      await call('echo', { text: 'x' }, user.token)
      const refused = await call('audit_query', {}, admin.token)
      expect(refused.status).toBe(503)
      expect(refused.headers.get('retry-after')).toBe('5')
      expect(await refused.json()).toMatchObject({ error: 'audit_unavailable', required_tier: 'admin' })
      // Tools below admin are not held back by it.
      expect((await call('echo', { text: 'x' }, user.token)).status).toBe(200)
    } finally {
      store.append = append
    }
    expect((await call('audit_query', {}, admin.token)).status).toBe(200)
  })

  test('404 for an unknown tool, and for names that only look like one (T-E10)', async () => {
    for (const name of ['nope', 'Audit_Query', 'AUDIT_QUERY', 'audit_query%00', '..%2faudit_query', 'audit_query%2f', 'audit_quer%C3%BD', '%E2%80%8Baudit_query', 'audit_query%20', '%61udit_query%2F..'])
      expect({ name, status: (await call(name, {}, admin.token)).status }).toEqual({ name, status: 404 })
    const encoded = await call('%61udit_query', {}, admin.token)
    expect(encoded.status).toBe(200) // percent-encoding of plain letters names the same tool
  })

  test('400 for a body that is not a JSON object, 415 for another media type', async () => {
    expect((await call('echo', '[1,2]', user.token)).status).toBe(400)
    expect((await call('echo', '{"text":', user.token)).status).toBe(400)
    const plain = await fetch(`${h.url}/mcp/tool/echo`, { method: 'POST', headers: { ...bearer(user.token), 'content-type': 'text/plain' }, body: '{"text":"x"}' })
    expect(plain.status).toBe(415)
  })

  test('arguments nested 100 000 deep are refused without a 500, and the server stays up (T-E6); an oversized body is 413 (T-E5)', async () => {
    for (const deep of ['{"text":"x","a":' + '['.repeat(100_000) + ']'.repeat(100_000) + '}', '{"text":"x","a":' + '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000) + '}']) {
      const res = await call('echo', deep, user.token)
      expect([400, 422]).toContain(res.status)
    }
    const huge = await call('echo', { text: 'x'.repeat(5 * 1024 * 1024) }, user.token)
    expect(huge.status).toBe(413)
    expect((await call('echo', { text: 'still up' }, user.token)).status).toBe(200)
  })

  test('422 names the offending fields', async () => {
    const res = await call('echo', { text: 5, extra: true }, user.token)
    expect(res.status).toBe(422)
    const body = (await res.json()) as { error: string; fields: string[]; problems: string[] }
    expect(body.error).toBe('invalid_arguments')
    expect(body.fields.sort()).toEqual(['extra', 'text'])
    const missing = (await (await call('echo', {}, user.token)).json()) as { fields: string[] }
    expect(missing.fields).toEqual(['text'])
  })

  test('500 for a failing tool, without internals; a tool\'s own error message is passed on', async () => {
    const res = await call('explode', {}, user.token)
    expect(res.status).toBe(500)
    const text = await res.text()
    expect(text).not.toContain('hunter2')
    expect(text).not.toContain('/srv')
    expect(JSON.parse(text)).toMatchObject({ error: 'tool_failed' })
    const refused = await call('refuse', {}, user.token)
    expect(refused.status).toBe(500)
    expect(await refused.json()).toMatchObject({ error: 'tool_failed', message: 'The index is not built yet: try again later' })
  })

  test('a foreign Origin is 403 with no CORS grant; a preflight from it gets none either (T-F1, T-F3)', async () => {
    const res = await call('echo', { text: 'x' }, user.token, { origin: 'https://evil.example' })
    expect(res.status).toBe(403)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    const pre = await fetch(`${h.url}/mcp/tool/echo`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } })
    expect(pre.headers.get('access-control-allow-origin')).toBeNull()
    expect(pre.headers.get('access-control-allow-credentials')).toBeNull()
    const ok = await fetch(`${h.url}/mcp/tool/echo`, { method: 'OPTIONS', headers: { origin: 'http://localhost:5173', 'access-control-request-method': 'POST' } })
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:5173')
    expect(ok.headers.get('vary')).toBe('Origin')
    expect((await call('echo', { text: 'x' }, user.token, { host: 'attacker.example' })).status).toBe(403)
  })
})

test('GET /mcp/tools lists name, description, tier and inputSchema of what the caller may use', async () => {
  const res = await fetch(`${h.url}/mcp/tools`, { headers: bearer(user.token) })
  const body = (await res.json()) as { tools: Record<string, unknown>[]; total: number }
  const echo = body.tools.find((t) => t.name === 'echo')!
  expect(echo).toMatchObject({ name: 'echo', description: expect.any(String), tier: 'public', inputSchema: { type: 'object' } })
  expect(body.tools.some((t) => t.name === 'audit_query')).toBe(false)
  expect(body.total).toBe(body.tools.length)
})

test('every call and auth event is audited; audit_query reads them and is itself audited', async () => {
  await call('echo', { text: 'audit me' }, user.token)
  await call('audit_query', {}, user.token)
  const res = await call('audit_query', { user: 'user@example.com', limit: 50 }, admin.token)
  expect(res.status).toBe(200)
  const records = ((await res.json()) as { result: { structuredContent: { records: Record<string, unknown>[] } } }).result.structuredContent.records
  const echo = records.find((r) => r.tool === 'echo' && r.outcome === 'ok')!
  expect(echo).toMatchObject({ kind: 'tool_call', userId: user.user_id, tier: 'user', toolTier: 'public', transport: 'rest', argsDigest: argumentsDigest({ text: 'audit me' }) })
  expect(echo.latencyMs).toBeGreaterThanOrEqual(0)
  expect(records.find((r) => r.tool === 'audit_query')).toMatchObject({ outcome: 'denied', toolTier: 'admin' })
  expect(records.some((r) => r.kind === 'login_completed')).toBe(true)
  expect(JSON.stringify(records)).not.toContain('audit me')
  const self = await h.server.auth!.audit.query({ limit: 5, userId: admin.user_id, tool: 'audit_query' })
  expect(self[0]).toMatchObject({ outcome: 'ok', tier: 'admin' })
})
