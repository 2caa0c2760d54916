/**
 * Magic-link sign-in over a real port, with the email delivered over SMTP to a local server:
 * POST /auth/login, the email, GET/HEAD/POST /auth/callback (security.md §2.1; T-A4, T-C1, T-C2,
 * T-D3, T-B7).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { bearer, ensureUser, requestLogin, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { decodeJwt } from '../_utils/jwt.ts'
import { parseLoginMail } from '../_utils/smtp.ts'

let h: Harness
beforeAll(async () => {
  h = await startHarness({ MCPRAG_ADMIN_EMAILS: 'boss@example.com' })
  await ensureUser(h, 'ada@example.com', 'user')
})
afterAll(() => h.stop())

const callbackJson = (token: string) => fetch(`${h.url}/auth/callback?token=${token}`, { headers: { accept: 'application/json' } })

test('GET /health answers status, version and uptime without a token', async () => {
  const res = await fetch(`${h.url}/health`)
  expect(res.status).toBe(200)
  expect(await res.json()).toMatchObject({ status: 'ok', version: expect.any(String), uptime_s: expect.any(Number) })
})

describe('POST /auth/login', () => {
  test('a known address gets an email with the link and the bare token; the link uses the public URL', async () => {
    const { token, link } = await requestLogin(h, 'ada@example.com')
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(link).toBe(`${h.url}/auth/sign-in?token=${token}`)
    const mail = h.smtp.to('ada@example.com').at(-1)!.raw
    expect(mail).toContain('Subject: Your mcprag sign-in link')
  })

  test('known and unknown addresses get the same answer; only the known one gets mail (no enumeration)', async () => {
    const before = h.smtp.mails.length
    const adaBefore = h.smtp.to('ada@example.com').length
    const known = await restPost(`${h.url}/auth/login`, { email: 'ada@example.com' })
    const unknown = await restPost(`${h.url}/auth/login`, { email: 'nobody@example.com' })
    expect(known.status).toBe(200)
    expect(unknown.status).toBe(known.status)
    expect(await unknown.text()).toBe(await known.text())
    const headerNames = (r: Response) => [...r.headers.keys()].filter((k) => k !== 'date').sort()
    expect(headerNames(unknown)).toEqual(headerNames(known))
    await h.smtp.waitFor('ada@example.com', adaBefore + 1)
    await Bun.sleep(100)
    expect(h.smtp.mails.length).toBe(before + 1)
    expect(h.smtp.to('nobody@example.com')).toHaveLength(0)
  })

  test('the link is built from the configured URL, never from the Host header', async () => {
    // localhost is an allowed Host; the public URL is http://127.0.0.1:<port>.
    const port = new URL(h.url).port
    const before = h.smtp.to('ada@example.com').length
    const res = await fetch(`${h.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', host: `localhost:${port}`, 'x-forwarded-host': 'evil.example' }, body: JSON.stringify({ email: 'ada@example.com' }) })
    expect(res.status).toBe(200)
    const mail = await h.smtp.waitFor('ada@example.com', before + 1)
    expect(mail.raw).toContain(`${h.url}/auth/sign-in?token=`)
    expect(mail.raw).not.toContain('evil.example')
  })

  test('invalid addresses are 400 naming the field, header injection included; other bodies are refused', async () => {
    for (const email of ['not-an-email', 'a@b.c\r\nBcc: x@y.z', 'a b@example.com', `${'a'.repeat(250)}@x.io`, 42, null])
      expect({ email, status: (await restPost(`${h.url}/auth/login`, { email })).status }).toEqual({ email, status: 400 })
    // Controls, invisible and bidi characters, separators (issue 13, L5): refused, never delivered elsewhere.
    for (const c of ['\u0000', '\u007f', '\u0085', '\u009b', '\u001b', '\u2028', '\u2029', '\u200b', '\u202e', '\u2066', '\u00ad', '\u00a0', '\ufeff']) {
      const email = `ada${c}x@example.com`
      expect({ c: c.charCodeAt(0).toString(16), status: (await restPost(`${h.url}/auth/login`, { email })).status }).toEqual({ c: c.charCodeAt(0).toString(16), status: 400 })
    }
    const bad = await restPost(`${h.url}/auth/login`, { email: 'a@b.c\r\nBcc: x@y.z' })
    expect(((await bad.json()) as { message: string }).message).toContain('"email"')
    expect((await fetch(`${h.url}/auth/login`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{"email":"ada@example.com"}' })).status).toBe(415)
    expect((await restPost(`${h.url}/auth/login`, '{"email":')).status).toBe(400)
    expect((await restPost(`${h.url}/auth/login`, { email: 'ada@example.com', pad: 'x'.repeat(5000) })).status).toBe(413)
  })

  test('an address is normalised once (trimmed, NFC, lower-cased): composed and decomposed forms are one user (issue 13, L5)', async () => {
    await ensureUser(h, 'åsa@example.com', 'user')
    const signInAs = async (typed: string): Promise<Login> => {
      const before = h.smtp.to('åsa@example.com').length
      expect((await restPost(`${h.url}/auth/login`, { email: typed })).status).toBe(200)
      const { token } = parseLoginMail(await h.smtp.waitFor('åsa@example.com', before + 1))
      return (await (await callbackJson(token)).json()) as Login
    }
    const decomposed = await signInAs(' A\u030Asa@Example.com')
    expect(decomposed.email).toBe('åsa@example.com')
    const composed = await signInAs('\u00C5SA@example.com')
    expect(composed.user_id).toBe(decomposed.user_id)
  })

  test('invite mode: an unknown address is not signed up; an admin address from MCPRAG_ADMIN_EMAILS is, as admin', async () => {
    const boss = await signIn(h, 'Boss@Example.com')
    expect(boss).toMatchObject({ email: 'boss@example.com', tier: 'admin' })
  })
})

describe('GET /auth/callback', () => {
  test('a REST client sending Accept: */* or no Accept (curl, requests, aiohttp) gets the JSON session; a browser gets the page', async () => {
    for (const accept of [undefined, '*/*']) {
      const { token } = await requestLogin(h, 'ada@example.com')
      const res = await fetch(`${h.url}/auth/callback?token=${token}`, { headers: accept ? { accept } : {} })
      expect({ accept, status: res.status, type: res.headers.get('content-type') }).toEqual({ accept, status: 200, type: 'application/json' })
      const body = (await res.json()) as Record<string, unknown>
      expect(Object.keys(body).sort()).toEqual(['email', 'expires_at', 'tier', 'token', 'user_id'])
      expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(String(body.token)) })).status).toBe(200)
    }
    const { token } = await requestLogin(h, 'ada@example.com')
    const page = await fetch(`${h.url}/auth/callback?token=${token}`, { headers: { accept: 'text/html,*/*;q=0.8' } })
    expect(page.headers.get('content-type')).toStartWith('text/html')
    expect((await callbackJson(token)).status).toBe(200)
  })

  test('the emailed link is a page for browsers, scanners and HEAD alike, and consumes nothing (T-A4)', async () => {
    const { token, link } = await requestLogin(h, 'ada@example.com')
    const browser = await fetch(link, { headers: { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' } })
    expect(browser.status).toBe(200)
    expect(browser.headers.get('content-type')).toStartWith('text/html')
    expect(browser.headers.get('cache-control')).toBe('no-store')
    // Not no-referrer: with it the page's own POST carries Origin: null, which the Origin guard refuses.
    expect(browser.headers.get('referrer-policy')).toBe('same-origin')
    expect(browser.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(browser.headers.get('set-cookie')).toBeNull()
    const html = await browser.text()
    expect(html).toContain('<form method="post" action="/auth/callback">')
    expect(html).not.toContain('eyJ')
    // Link checkers open emailed links too; axios sends `application/json, text/plain, */*` (issue 13, L1).
    for (const accept of [undefined, '*/*', 'application/json', 'application/json, text/html', 'application/json, text/plain, */*']) {
      const res = await fetch(link, { headers: accept ? { accept } : {} })
      expect({ accept, type: res.headers.get('content-type') }).toEqual({ accept, type: 'text/html; charset=utf-8' })
    }
    const head = await fetch(link, { method: 'HEAD', headers: { accept: 'application/json' } })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toStartWith('text/html')
    // Still unused: the command-line client can redeem it.
    expect((await callbackJson(token)).status).toBe(200)
  })

  test('a command-line client asking for JSON gets the session: token, email, tier, user_id, expires_at', async () => {
    const { token } = await requestLogin(h, 'ada@example.com')
    const res = await callbackJson(token)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as Login
    const user = (await h.server.auth!.stores.users.getByEmail('ada@example.com'))!
    expect(body).toEqual({ token: expect.any(String), email: 'ada@example.com', tier: 'user', user_id: user.id, expires_at: expect.any(Number) })
    expect(body.expires_at).toBeGreaterThan(Date.now() / 1000 + 11 * 3600)
    const { payload } = decodeJwt(body.token)
    expect(payload).toMatchObject({ sub: user.id, iss: h.url, aud: h.url })
    expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(body.token) })).status).toBe(200)
  })

  test('a used token is refused exactly like an unknown one (T-C1)', async () => {
    const { token } = await requestLogin(h, 'ada@example.com')
    expect((await callbackJson(token)).status).toBe(200)
    const again = await callbackJson(token)
    const unknown = await callbackJson('A'.repeat(43))
    const malformed = await callbackJson('short')
    expect([again.status, unknown.status, malformed.status]).toEqual([401, 401, 401])
    const text = await again.text()
    expect(await unknown.text()).toBe(text)
    expect(await malformed.text()).toBe(text)
    expect(JSON.parse(text)).toMatchObject({ error: 'invalid_token' })
  })

  test('50 concurrent redemptions of one token yield exactly one session (T-C2)', async () => {
    const { token } = await requestLogin(h, 'ada@example.com')
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        i % 2 ? callbackJson(token) : restPost(`${h.url}/auth/callback`, { token }),
      ),
    )
    expect(results.map((r) => r.status).filter((s) => s === 200)).toHaveLength(1)
    expect(results.map((r) => r.status).filter((s) => s === 401)).toHaveLength(49)
  })

  test('extra fields in request bodies never reach the token\'s claims (T-B7)', async () => {
    const { token } = await requestLogin(h, 'ada@example.com')
    const res = await restPost(`${h.url}/auth/callback`, { token, exp: 9_999_999_999, sub: 'someone-else', aud: 'https://evil.example', role: 'admin', tier: 'admin', email: 'boss@example.com' })
    const body = (await res.json()) as Login
    expect(body).toMatchObject({ email: 'ada@example.com', tier: 'user' })
    const { payload } = decodeJwt(body.token)
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub'])
    expect(payload.sub).toBe(body.user_id)
    expect(payload.aud).toBe(h.url)
    expect(payload.exp).toBeLessThan(9_999_999_999)
  })
})

describe('POST /auth/callback (the confirmation page\'s button)', () => {
  test('the form POST signs in and shows the token; a second POST fails', async () => {
    const { token } = await requestLogin(h, 'ada@example.com')
    const form = () => fetch(`${h.url}/auth/callback`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: h.url }, body: `token=${token}` })
    const res = await form()
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('Signed in as ada@example.com')
    const jwt = /<textarea readonly>([^<]+)<\/textarea>/.exec(html)![1]!
    expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(jwt) })).status).toBe(200)
    const again = await form()
    expect(again.status).toBe(401)
    expect(await again.text()).toContain('invalid, expired or already used')
  })

  test('a cross-site form POST is refused by the Origin check and does not consume the token', async () => {
    const { token } = await requestLogin(h, 'ada@example.com')
    const res = await fetch(`${h.url}/auth/callback`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: 'https://evil.example' }, body: `token=${token}` })
    expect(res.status).toBe(403)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    expect((await callbackJson(token)).status).toBe(200)
  })
})

test('the database files hold neither the emailed token nor the session token (hashes only)', async () => {
  const { token } = await requestLogin(h, 'ada@example.com')
  const session = await signIn(h, 'ada@example.com')
  const dir = h.server.dataDir!
  const dump = ['mcprag.db', 'mcprag.db-wal']
    .map((f) => {
      try {
        return readFileSync(join(dir, f)).toString('latin1')
      } catch {
        return ''
      }
    })
    .join('')
  expect(dump).toContain('ada@example.com')
  expect(dump).not.toContain(token)
  expect(dump).not.toContain(session.token.split('.')[2]!)
})
