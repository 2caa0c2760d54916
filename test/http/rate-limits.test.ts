/**
 * Rate limits answered with 429 and Retry-After: sign-in emails per address (T-D2), auth requests
 * per client address, spoofed X-Forwarded-For not trusted (T-D6), tool calls per user with other
 * users unaffected (T-D5), and the per-address request budget on the MCP endpoint.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bearer, ensureUser, restPost, signIn, startHarness, type Harness } from '../_utils/auth.ts'
import { post } from '../_utils/http.ts'

describe('sign-in', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ MCPRAG_RATE_LOGIN_EMAIL: '5/15m', MCPRAG_RATE_AUTH_ADDRESS: '12/15m' })
    await ensureUser(h, 'flood@example.com', 'user')
  })
  afterAll(() => h.stop())

  test('the sixth sign-in request for one address in the window is 429 and sends no email (T-D2)', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await restPost(`${h.url}/auth/login`, { email: 'flood@example.com' }, { 'x-forwarded-for': `198.51.100.${i}` })).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
    await h.smtp.waitFor('flood@example.com', 5)
    await Bun.sleep(200)
    expect(h.smtp.to('flood@example.com')).toHaveLength(5)
    const last = await restPost(`${h.url}/auth/login`, { email: 'flood@example.com' })
    expect(last.status).toBe(429)
    expect(Number(last.headers.get('retry-after'))).toBeGreaterThan(800)
    expect(await last.json()).toMatchObject({ error: 'rate_limited', retry_after_s: expect.any(Number) })
  })

  test('one address spread over many emails and spoofed X-Forwarded-For values hits the per-address cap (T-D6)', async () => {
    // Seven requests were spent above; the cap is 12 per 15 minutes per client address.
    const statuses: number[] = []
    for (let i = 0; i < 6; i++) statuses.push((await restPost(`${h.url}/auth/login`, { email: `u${i}@example.com` }, { 'x-forwarded-for': `203.0.113.${i}` })).status)
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429])
    const callback = await fetch(`${h.url}/auth/callback?token=${'A'.repeat(43)}`, { headers: { accept: 'application/json' } })
    expect(callback.status).toBe(429)
    expect(callback.headers.get('retry-after')).not.toBeNull()
    const audit = await h.server.auth!.audit.query({ limit: 5, kind: 'rate_limited' })
    expect(audit[0]).toMatchObject({ outcome: 'denied', clientAddress: '127.0.0.1' })
  })
})

describe('sign-in budgets cannot lock a user out (issue 13, M4)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ MCPRAG_TRUSTED_PROXIES: '1', MCPRAG_RATE_LOGIN_EMAIL: '5/15m', MCPRAG_RATE_LOGIN_MAILBOX: '8/1h', MCPRAG_ADMIN_EMAILS: 'admin@example.com' })
  })
  afterAll(() => h.stop())
  const login = (from: string) => restPost(`${h.url}/auth/login`, { email: 'admin@example.com' }, { 'x-forwarded-for': from })

  test("five anonymous requests exhaust the requester's budget, not the user's", async () => {
    const attacker = []
    for (let i = 0; i < 6; i++) attacker.push((await login('198.51.100.66')).status)
    expect(attacker).toEqual([200, 200, 200, 200, 200, 429])
    const real = await login('203.0.113.7')
    expect(real.status).toBe(200)
    await h.smtp.waitFor('admin@example.com', 6)
  })

  test('past the mailbox budget the answer is the same and no email goes out (no mail bombing from many addresses)', async () => {
    // Six emails went out above; the mailbox takes eight an hour, whoever asks.
    const statuses = []
    for (const from of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.4']) statuses.push((await login(from)).status)
    expect(statuses).toEqual([200, 200, 200, 200])
    await h.smtp.waitFor('admin@example.com', 8)
    await Bun.sleep(200)
    expect(h.smtp.to('admin@example.com')).toHaveLength(8)
    const [record] = await h.server.auth!.audit.query({ limit: 1, kind: 'login_requested' })
    expect(record).toMatchObject({ outcome: 'suppressed', email: 'admin@example.com', clientAddress: '192.0.2.4' })
  })
})

describe('IPv6 clients are their /64 (issue 13, L7)', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ MCPRAG_TRUSTED_PROXIES: '1', MCPRAG_RATE_REQUESTS_ADDRESS: '3/1m' })
  })
  afterAll(() => h.stop())

  test('rotating addresses inside one /64 shares one request budget; another /64 has its own', async () => {
    const user = await signIn(h, 'v6@example.com', 'user')
    const from = (xff: string) => fetch(`${h.url}/mcp/tools`, { headers: { ...bearer(user.token), 'x-forwarded-for': xff } }).then((r) => r.status)
    const rotating = []
    for (const xff of ['2001:db8:1:2::1', '2001:db8:1:2::2', '2001:db8:1:2:ffff:ffff:ffff:fffe', '2001:db8:1:2:abcd::9']) rotating.push(await from(xff))
    expect(rotating).toEqual([200, 200, 200, 429])
    expect(await from('2001:db8:1:3::1')).toBe(200)
    const [record] = await h.server.auth!.audit.query({ limit: 1, kind: 'rate_limited' })
    expect(record).toMatchObject({ clientAddress: '2001:db8:1:2::/64' })
  })
})

describe('tool calls and requests', () => {
  let h: Harness
  beforeAll(async () => {
    h = await startHarness({ MCPRAG_RATE_TOOLS_USER: '3/1m', MCPRAG_RATE_REQUESTS_ADDRESS: '40/1m' })
  })
  afterAll(() => h.stop())

  test('a user over the tool-call budget gets 429 on REST and -32029 on MCP; another user is unaffected (T-D5)', async () => {
    const a = await signIn(h, 'busy@example.com', 'user')
    const b = await signIn(h, 'calm@example.com', 'user')
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await restPost(`${h.url}/mcp/tool/echo`, { text: 'x' }, bearer(a.token))).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const limited = await restPost(`${h.url}/mcp/tool/echo`, { text: 'x' }, bearer(a.token))
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    const { mcpSession, mcpCall } = await import('../_utils/auth.ts')
    const s = await mcpSession(h, a.token)
    const mcp = await mcpCall(h, s, 'tools/call', { name: 'echo', arguments: { text: 'x' } })
    expect((mcp.body.error as { code: number }).code).toBe(-32029)
    expect((await restPost(`${h.url}/mcp/tool/echo`, { text: 'x' }, bearer(b.token))).status).toBe(200)
  })

  test('a client address over the request budget gets 429 with Retry-After on the MCP endpoint', async () => {
    const c = await signIn(h, 'many@example.com', 'user')
    let res: Response | undefined
    for (let i = 0; i < 60; i++) {
      res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }, { ...bearer(c.token), 'x-forwarded-for': `192.0.2.${i}` })
      if (res.status === 429) break
    }
    expect(res!.status).toBe(429)
    expect(res!.headers.get('retry-after')).not.toBeNull()
    expect(((await res!.json()) as { error: { code: number } }).error.code).toBe(-32029)
  })
})
