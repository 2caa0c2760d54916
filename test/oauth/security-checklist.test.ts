/**
 * The authorization server's security checklist (research oauth.md §6), one test per case, all
 * through the front door: a real server on loopback, real SMTP, the scripted browser. Cases 7 and
 * 8 (Client ID Metadata Documents) are in cimd.test.ts, where the network is a spy.
 */
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import * as oauth from 'oauth4webapi'
import type { TOTP } from 'otpauth'
import { hashToken } from '../../src/auth/one-time-tokens.ts'
import { bearer, enrolTotp, ensureUser, requestLogin, signIn, startHarness, wsTicket, type Harness } from '../_utils/auth.ts'
import { CookieJar, authorizeInBrowser, freshCode } from '../_utils/browser-agent.ts'
import { decodeJwt, forgeJwt } from '../_utils/jwt.ts'
import { CALLBACK, authorizeUrl, exchange, getCode, mcpStatus, publicClient, register, tokenRequest } from '../_utils/oauth.ts'
import { startAuthServer } from '../_utils/server.ts'
import { openLegacyStream } from '../_utils/legacy-sse.ts'
import { until } from '../_utils/wait.ts'

const JWT_SECRET = 'j'.repeat(24) + crypto.randomUUID()
let h: Harness
let totp: TOTP
const ada = { email: 'ada@example.com', jar: new CookieJar() }
beforeAll(async () => {
  h = await startHarness({ MCPRAG_JWT_SECRET: JWT_SECRET })
  totp = await enrolTotp(h, await signIn(h, 'ada@example.com', 'admin'))
  await ensureUser(h, 'bob@example.com', 'user')
})
afterAll(() => h.stop())

const db = () => new Database(join(h.server.dataDir!, 'mcprag.db'))
const audited = async (kind: string) => (await h.server.auth!.audit.query({ limit: 1000, kind })).length
const manual = (url: string, init: RequestInit = {}) => fetch(url, { redirect: 'manual', ...init })

/** A full grant for a fresh public client. */
async function grant(scope = 'mcp:tools', agent: Record<string, unknown> = {}) {
  const clientId = await publicClient(h)
  const c = await getCode(h, clientId, { ...ada, totp, ...agent }, { scope })
  return { clientId, ...c, tokens: await exchange(h, clientId, c) }
}

describe('metadata and discovery', () => {
  test('1. issuer is byte-identical in AS metadata, PRM and iss; no OpenID document; oauth4webapi discovery passes', async () => {
    const issuer = new URL(h.url)
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }))
    expect(as.issuer).toBe(h.url)
    expect(h.url.endsWith('/')).toBe(false)
    const prm = (await (await fetch(`${h.url}/.well-known/oauth-protected-resource/mcp`)).json()) as { authorization_servers: string[] }
    expect(prm.authorization_servers).toEqual([as.issuer])
    expect(as.code_challenge_methods_supported).toEqual(['S256'])
    expect(as).toMatchObject({ client_id_metadata_document_supported: true, authorization_response_iss_parameter_supported: true })
    const { redirect } = await getCode(h, await publicClient(h), ada)
    expect(redirect.searchParams.get('iss')).toBe(as.issuer)
    expect((await fetch(`${h.url}/.well-known/openid-configuration`)).status).toBe(404)
  }, 30_000)

  test('2. each endpoint has its own PRM whose resource is the URL asked for (VS Code strict check), and its 401 points there', async () => {
    for (const path of ['/mcp', '/sse']) {
      const res = await fetch(`${h.url}${path}`, { method: path === '/mcp' ? 'POST' : 'GET', headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' }, body: path === '/mcp' ? '{}' : undefined })
      expect(res.status).toBe(401)
      const metadataUrl = /resource_metadata="([^"]+)"/.exec(res.headers.get('www-authenticate') ?? '')![1]!
      expect(metadataUrl).toBe(`${h.url}/.well-known/oauth-protected-resource${path}`)
      const doc = (await (await fetch(metadataUrl)).json()) as { resource: string; scopes_supported: string[] }
      // RFC 9728 §3.3 as VS Code applies it: the resource must be exactly the URL requested.
      expect(doc.resource).toBe(`${h.url}${path}`)
      expect(doc.scopes_supported).toEqual(['mcp:tools'])
    }
    expect(((await (await fetch(`${h.url}/.well-known/oauth-protected-resource`)).json()) as { resource: string }).resource).toBe(h.url)
  })

  test('3. GET, POST and DELETE /mcp and GET /sse answer 401 with one leading Bearer challenge carrying the scope', async () => {
    const tries: [string, RequestInit, string][] = [
      ['/mcp', { method: 'GET', headers: { accept: 'application/json, text/event-stream' } }, '/mcp'],
      ['/mcp', { method: 'POST', headers: { accept: 'application/json, text/event-stream', 'content-type': 'application/json' }, body: '{}' }, '/mcp'],
      ['/mcp', { method: 'DELETE' }, '/mcp'],
      ['/sse', { method: 'GET', headers: { accept: 'text/event-stream' } }, '/sse'],
    ]
    for (const [path, init, doc] of tries) {
      const res = await fetch(`${h.url}${path}`, init)
      expect({ path, method: init.method, status: res.status }).toEqual({ path, method: init.method, status: 401 })
      expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${h.url}/.well-known/oauth-protected-resource${doc}", scope="mcp:tools"`)
    }
  })
})

describe('registration', () => {
  test('4. dangerous or foreign redirect URIs are refused with invalid_redirect_uri, and nothing is stored', async () => {
    const before = await audited('oauth_client_registered')
    for (const uri of ['javascript:alert(1)', 'data:text/html,x', 'file:///etc/passwd', 'http://evil.example/cb', 'https://a@evil/', 'https://ok.example/cb#frag']) {
      const res = await register(h, { redirect_uris: [uri], token_endpoint_auth_method: 'none' })
      expect({ uri, status: res.status, error: ((await res.json()) as { error: string }).error }).toEqual({ uri, status: 400, error: 'invalid_redirect_uri' })
    }
    expect(await audited('oauth_client_registered')).toBe(before)
  })

  test('5. an allow-listed private-use scheme (Cursor) registers; an unknown scheme does not', async () => {
    expect((await register(h, { redirect_uris: ['cursor://anysphere.cursor-mcp/oauth/callback'], token_endpoint_auth_method: 'none' })).status).toBe(201)
    const res = await register(h, { redirect_uris: ['unknownscheme:x'], token_endpoint_auth_method: 'none' })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { error: string }).error).toBe('invalid_redirect_uri')
  })

  test('6. a confidential client gets a secret and registration_client_uri; a 64 KiB body is refused; the 21st registration in an hour from one address is 429', async () => {
    const res = await register(h, { client_name: 'claude.ai', redirect_uris: ['https://claude.ai/api/mcp/auth_callback'], token_endpoint_auth_method: 'client_secret_post' })
    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, string>
    expect(body.client_secret).toMatch(/^mcs_/)
    expect(body.registration_client_uri).toBe(`${h.url}/register/${body.client_id}`)
    const read = await fetch(body.registration_client_uri!, { headers: bearer(body.registration_access_token!) })
    expect(read.status).toBe(200)
    expect(JSON.stringify(await read.json())).not.toContain(body.client_secret)
    expect((await fetch(body.registration_client_uri!, { headers: bearer('wrong') })).status).toBe(401)
    const big = await fetch(`${h.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [CALLBACK], pad: 'x'.repeat(64 * 1024) }) })
    expect(big.status).toBe(413)
    // A fresh server with the default budget (20 an hour per address; '' means the default).
    const s = await startAuthServer({ MCPRAG_RATE_REGISTER_ADDRESS: '' })
    try {
      const statuses: number[] = []
      for (let i = 0; i < 21; i++)
        statuses.push((await fetch(`${s.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ redirect_uris: [CALLBACK], token_endpoint_auth_method: 'none' }) })).status)
      expect(statuses.slice(0, 20).every((x) => x === 201)).toBe(true)
      expect(statuses[20]).toBe(429)
    } finally {
      await s.stop()
    }
  })
})

describe('authorization endpoint', () => {
  test('9. an unknown client_id is 400 JSON invalid_client, never a redirect', async () => {
    const res = await manual(authorizeUrl(h, 'mcc_unknown').url, { headers: { accept: 'application/json' } })
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
    expect(await res.json()).toMatchObject({ error: 'invalid_client' })
  })

  test('10. a redirect_uri that is not exactly registered is a 400 page and never a redirect; loopback ports may differ, loopback names may not', async () => {
    const id = await publicClient(h, ['http://127.0.0.1:1/cb', 'http://localhost:1/cb', 'https://app.example/cb'])
    for (const bad of ['https://app.example/cb/extra', 'https://app.example/other', 'https://app.example/cb?x=1', 'http://localhost.evil.com/cb', 'https://app.example/cb#f', 'http://127.0.0.1:1/cb2', 'http://[::1]:1/cb']) {
      const res = await manual(authorizeUrl(h, id, { redirect_uri: bad }).url)
      expect({ bad, status: res.status, location: res.headers.get('location') }).toEqual({ bad, status: 400, location: null })
      expect(res.headers.get('content-type')).toStartWith('text/html')
    }
    for (const good of ['http://127.0.0.1:4567/cb', 'http://localhost:4567/cb']) {
      const res = await manual(authorizeUrl(h, id, { redirect_uri: good }).url)
      expect({ good, status: res.status }).toEqual({ good, status: 303 })
      expect(res.headers.get('location')).toContain('/oauth/login?req=')
    }
    // Registered only as localhost: 127.0.0.1 does not match it, and the other way round.
    const onlyLocalhost = await publicClient(h, ['http://localhost:1/cb'])
    expect((await manual(authorizeUrl(h, onlyLocalhost, { redirect_uri: 'http://127.0.0.1:1/cb' }).url)).status).toBe(400)
  })

  test('11. no PKCE, plain PKCE or a 42-character challenge: redirect with invalid_request, state and iss', async () => {
    const id = await publicClient(h)
    for (const params of [{ code_challenge: undefined }, { code_challenge_method: 'plain' }, { code_challenge: 'a'.repeat(42) }, { code_challenge_method: undefined }]) {
      const started = authorizeUrl(h, id, params)
      const res = await manual(started.url)
      expect(res.status).toBe(302)
      const to = new URL(res.headers.get('location')!)
      expect(`${to.origin}${to.pathname}`).toBe(CALLBACK)
      expect(Object.fromEntries(to.searchParams)).toMatchObject({ error: 'invalid_request', state: started.state, iss: h.url })
      expect(to.searchParams.has('code')).toBe(false)
    }
  })

  test('12. another resource, or two resource parameters: invalid_target, no code', async () => {
    const id = await publicClient(h)
    const other = authorizeUrl(h, id, { resource: 'https://other.example/mcp' })
    const twice = `${authorizeUrl(h, id).url}&resource=${encodeURIComponent(`${h.url}/sse`)}`
    for (const url of [other.url, twice]) {
      const res = await manual(url)
      const to = new URL(res.headers.get('location')!)
      expect(to.searchParams.get('error')).toBe('invalid_target')
      expect(to.searchParams.has('code')).toBe(false)
    }
  })

  test('13. consent needs a signed-in browser; the page cannot be framed; a cross-site or CSRF-less approve is refused', async () => {
    const id = await publicClient(h)
    const first = await manual(authorizeUrl(h, id).url)
    expect(first.headers.get('location')).toContain('/oauth/login?req=')
    const req = /req=([\w-]+)/.exec(first.headers.get('location')!)![1]!
    const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!
    // Not signed in: the consent URL sends the browser to sign in instead.
    const consent = await manual(`${h.url}/oauth/consent?req=${req}`, { headers: { cookie } })
    expect(consent.status).toBe(303)
    expect(consent.headers.get('location')).toContain('/oauth/login')
    // A signed-in browser sees the page: not framable.
    const jar = new CookieJar()
    const started = authorizeUrl(h, id)
    await authorizeInBrowser(started.url, { h, email: 'bob@example.com', jar, deny: true })
    const again = await manual(authorizeUrl(h, id).url, { headers: { cookie: jar.header() } })
    const page = await fetch(again.headers.get('location')!, { headers: { cookie: jar.header() } })
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    const html = await page.text()
    const fields = { req: /name="req" value="([^"]+)"/.exec(html)![1]!, csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]!, action: 'approve' }
    const post = (f: Record<string, string>, headers: Record<string, string>) =>
      manual(`${h.url}/oauth/consent`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(f).toString() })
    expect((await post(fields, { cookie: jar.header(), origin: 'https://evil.example' })).status).toBe(403)
    expect((await post({ ...fields, csrf: 'x'.repeat(43) }, { cookie: jar.header(), origin: h.url })).status).toBe(403)
    const noCookie = await post(fields, { origin: h.url })
    expect(noCookie.status).toBe(400)
    expect(noCookie.headers.get('location')).toBeNull()
    // The real form still works afterwards: nothing above spent the request.
    expect((await post(fields, { cookie: jar.header(), origin: h.url })).status).toBe(302)
  }, 30_000)

  test('14. confused deputy: consent to client A never covers client B, A with another redirect URI, or wider scopes', async () => {
    const jar = new CookieJar()
    const a = await publicClient(h, [CALLBACK, 'http://127.0.0.1:1/other'])
    const first = await authorizeInBrowser(authorizeUrl(h, a).url, { h, email: 'bob@example.com', jar })
    expect(first.pages).toContain('/oauth/consent')
    // A again, same redirect and scopes: remembered, no page.
    expect((await authorizeInBrowser(authorizeUrl(h, a).url, { h, email: 'bob@example.com', jar })).pages).toEqual([])
    const b = await publicClient(h)
    for (const [what, url] of [
      ['client B', authorizeUrl(h, b).url],
      ['A with another redirect URI', authorizeUrl(h, a, { redirect_uri: 'http://127.0.0.1:1/other' }).url],
      ['A with wider scopes', authorizeUrl(h, a, { scope: 'mcp:tools mcp:admin' }).url],
      ['A for another resource', authorizeUrl(h, a, { resource: `${h.url}/sse` }).url],
    ]) {
      const r = await manual(url!, { headers: { cookie: jar.header() } })
      const page = await fetch(r.headers.get('location')!, { headers: { cookie: jar.header() }, redirect: 'manual' })
      expect({ what, status: page.status, consent: (await page.text()).includes('action="/oauth/consent"') }).toEqual({ what, status: 200, consent: true })
    }
  }, 30_000)

  test('15. state comes back unchanged; iss is on success and error redirects; Deny is access_denied', async () => {
    const id = await publicClient(h)
    const odd = 'a b+c/d?e=f&g=ü'
    const ok = await getCode(h, id, ada, { state: odd })
    expect(ok.redirect.searchParams.get('state')).toBe(odd)
    expect(ok.redirect.searchParams.get('iss')).toBe(h.url)
    const denied = await authorizeInBrowser(authorizeUrl(h, id, { state: odd, scope: 'mcp:tools mcp:admin' }).url, { h, ...ada, deny: true })
    expect(Object.fromEntries(denied.redirect.searchParams)).toMatchObject({ error: 'access_denied', state: odd, iss: h.url })
    expect(denied.redirect.searchParams.has('code')).toBe(false)
  }, 30_000)

  test('16. mcp:admin needs a valid, unused TOTP code on the consent page; the access token says amr otp', async () => {
    const id = await publicClient(h)
    const jar = new CookieJar()
    await authorizeInBrowser(authorizeUrl(h, id).url, { h, email: 'ada@example.com', jar })
    const r = await manual(authorizeUrl(h, id, { scope: 'mcp:tools mcp:admin' }).url, { headers: { cookie: jar.header() } })
    const html = await (await fetch(r.headers.get('location')!, { headers: { cookie: jar.header() } })).text()
    expect(html).toContain('name="totp_code"')
    const fields = { req: /name="req" value="([^"]+)"/.exec(html)![1]!, csrf: /name="csrf" value="([^"]+)"/.exec(html)![1]!, action: 'approve' }
    const approve = (code?: string) =>
      manual(`${h.url}/oauth/consent`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(), origin: h.url },
        body: new URLSearchParams(code === undefined ? fields : { ...fields, totp_code: code }).toString(),
      })
    expect((await approve()).status).toBe(401)
    expect((await approve('000000')).status).toBe(401)
    const code = await freshCode(totp)
    const ok = await approve(code)
    expect(ok.status).toBe(302)
    // The same code again, on a new request: a replay.
    const r2 = await manual(authorizeUrl(h, id, { scope: 'mcp:tools mcp:admin' }).url, { headers: { cookie: jar.header() } })
    const html2 = await (await fetch(r2.headers.get('location')!, { headers: { cookie: jar.header() } })).text()
    const replay = await manual(`${h.url}/oauth/consent`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.header(), origin: h.url },
      body: new URLSearchParams({ req: /name="req" value="([^"]+)"/.exec(html2)![1]!, csrf: /name="csrf" value="([^"]+)"/.exec(html2)![1]!, action: 'approve', totp_code: code }).toString(),
    })
    expect(replay.status).toBe(401)
    const to = new URL(ok.headers.get('location')!)
    const started = { code: to.searchParams.get('code')! }
    // The verifier of this hand-made request is unknown here; check the code's record instead of redeeming it.
    const row = db().query('SELECT value FROM oauth_codes WHERE hash = ?').get(hashToken(started.code)) as { value: string }
    expect(JSON.parse(row.value)).toMatchObject({ scope: 'mcp:admin mcp:tools', amr: ['email', 'otp'] })
    const full = await grant('mcp:tools mcp:admin')
    expect(decodeJwt(full.tokens.access_token).payload.amr).toEqual(['email', 'otp'])
  }, 90_000)
})

describe('token endpoint', () => {
  test('17. a wrong code_verifier is invalid_grant and burns the code', async () => {
    const id = await publicClient(h)
    const c = await getCode(h, id, ada)
    const wrong = await tokenRequest(h, { grant_type: 'authorization_code', code: c.code, code_verifier: 'w'.repeat(43), redirect_uri: CALLBACK, client_id: id })
    expect(wrong.status).toBe(400)
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant')
    const right = await tokenRequest(h, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: CALLBACK, client_id: id })
    expect(((await right.json()) as { error: string }).error).toBe('invalid_grant')
  }, 30_000)

  test('18. a reused code is invalid_grant and revokes what the first exchange issued', async () => {
    const g = await grant()
    expect(await mcpStatus(h, g.tokens.access_token)).toBe(200)
    const again = await tokenRequest(h, { grant_type: 'authorization_code', code: g.code, code_verifier: g.verifier, redirect_uri: CALLBACK, client_id: g.clientId })
    expect(((await again.json()) as { error: string }).error).toBe('invalid_grant')
    expect(await mcpStatus(h, g.tokens.access_token)).toBe(401)
    const refresh = await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: g.tokens.refresh_token!, client_id: g.clientId })
    expect(((await refresh.json()) as { error: string }).error).toBe('invalid_grant')
  }, 30_000)

  test('19. a code past its 60 s, or redeemed by another client or with another redirect_uri, is invalid_grant', async () => {
    const id = await publicClient(h)
    const late = await getCode(h, id, ada)
    const d = db()
    const row = d.query('SELECT value, expires_at FROM oauth_codes WHERE hash = ?').get(hashToken(late.code)) as { value: string; expires_at: number }
    expect(row.expires_at - Date.now()).toBeLessThanOrEqual(60_000)
    // Age it past its expiry in the shared store (no test waits a minute).
    d.run('UPDATE oauth_codes SET expires_at = ? WHERE hash = ?', [Date.now() - 1, hashToken(late.code)])
    d.close()
    const expired = await tokenRequest(h, { grant_type: 'authorization_code', code: late.code, code_verifier: late.verifier, redirect_uri: CALLBACK, client_id: id })
    expect(((await expired.json()) as { error: string }).error).toBe('invalid_grant')
    const other = await publicClient(h)
    const c1 = await getCode(h, id, ada)
    const byOther = await tokenRequest(h, { grant_type: 'authorization_code', code: c1.code, code_verifier: c1.verifier, redirect_uri: CALLBACK, client_id: other })
    expect(((await byOther.json()) as { error: string }).error).toBe('invalid_grant')
    const c2 = await getCode(h, id, ada)
    const otherRedirect = await tokenRequest(h, { grant_type: 'authorization_code', code: c2.code, code_verifier: c2.verifier, redirect_uri: 'http://127.0.0.1:1/elsewhere', client_id: id })
    expect(((await otherRedirect.json()) as { error: string }).error).toBe('invalid_grant')
  }, 30_000)

  test('20. the token request cannot retarget the resource; the access token aud is the resource', async () => {
    const id = await publicClient(h)
    const c = await getCode(h, id, ada)
    const res = await tokenRequest(h, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: CALLBACK, client_id: id, resource: 'https://other.example/mcp' })
    expect(((await res.json()) as { error: string }).error).toBe('invalid_target')
    const ok = await grant()
    expect(decodeJwt(ok.tokens.access_token).payload.aud).toBe(`${h.url}/mcp`)
  }, 30_000)

  test('21. a confidential client with a wrong or missing secret is 401 invalid_client; a public client sending a secret is refused alike', async () => {
    const reg = (await (await register(h, { redirect_uris: [CALLBACK], token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code', 'refresh_token'] })).json()) as { client_id: string; client_secret: string }
    const c = await getCode(h, reg.client_id, ada)
    const base = { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: CALLBACK }
    const basic = (id: string, secret: string) => ({ authorization: `Basic ${btoa(`${id}:${secret}`)}` })
    for (const [what, res] of [
      ['wrong secret', await tokenRequest(h, base, basic(reg.client_id, 'wrong'))],
      ['no secret', await tokenRequest(h, { ...base, client_id: reg.client_id })],
    ] as const) {
      expect({ what, status: res.status, error: ((await res.json()) as { error: string }).error }).toEqual({ what, status: 401, error: 'invalid_client' })
    }
    const ok = await tokenRequest(h, base, basic(reg.client_id, reg.client_secret))
    expect(ok.status).toBe(200)
    const pub = await publicClient(h)
    const pc = await getCode(h, pub, ada)
    const withSecret = await tokenRequest(h, { grant_type: 'authorization_code', code: pc.code, code_verifier: pc.verifier, redirect_uri: CALLBACK, client_id: pub, client_secret: 'anything' })
    expect(withSecret.status).toBe(401)
    expect(((await withSecret.json()) as { error: string }).error).toBe('invalid_client')
  }, 30_000)

  test('22. refresh tokens rotate once; reusing one revokes the family; 50 concurrent refreshes on two instances: one success', async () => {
    const g = await grant()
    const refresh = (rt: string, url = h.url, clientId = g.clientId) =>
      fetch(`${url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: clientId }).toString() })
    const r2 = (await (await refresh(g.tokens.refresh_token!)).json()) as { access_token: string; refresh_token: string }
    expect(await mcpStatus(h, r2.access_token)).toBe(200)
    expect(((await (await refresh(g.tokens.refresh_token!)).json()) as { error: string }).error).toBe('invalid_grant')
    expect(await mcpStatus(h, r2.access_token)).toBe(401)
    expect(((await (await refresh(r2.refresh_token)).json()) as { error: string }).error).toBe('invalid_grant')
    // A second instance on the same store (another process would share the file the same way).
    const second = await startAuthServer({ MCPRAG_DATA_DIR: h.server.dataDir!, MCPRAG_JWT_SECRET: JWT_SECRET })
    try {
      const g2 = await grant()
      const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => refresh(g2.tokens.refresh_token!, i % 2 ? h.url : second.url, g2.clientId).then((r) => r.status)))
      expect(statuses.filter((s) => s === 200)).toHaveLength(1)
      expect(statuses.filter((s) => s === 400)).toHaveLength(49)
    } finally {
      await second.stop()
    }
  }, 60_000)

  test('23. a refresh cannot widen the scope or change the resource; mcp:admin lapses with its TOTP window', async () => {
    const g = await grant()
    const refresh = (extra: Record<string, string>, rt = g.tokens.refresh_token!) => tokenRequest(h, { grant_type: 'refresh_token', refresh_token: rt, client_id: g.clientId, ...extra })
    expect(((await (await refresh({ scope: 'mcp:tools mcp:admin' })).json()) as { error: string }).error).toBe('invalid_scope')
    expect(((await (await refresh({ resource: 'https://other.example/mcp' })).json()) as { error: string }).error).toBe('invalid_target')
    const admin = await grant('mcp:tools mcp:admin')
    expect(admin.tokens.scope).toBe('mcp:admin mcp:tools')
    // The grant's TOTP verification lapses (its window moved into the past in the shared store).
    const d = db()
    d.run('UPDATE auth_sessions SET mfa_verified_until = ? WHERE id = ?', [Date.now() - 1, String(decodeJwt(admin.tokens.access_token).payload.jti)])
    d.close()
    const after = (await (await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: admin.tokens.refresh_token!, client_id: admin.clientId })).json()) as { access_token: string; scope: string }
    expect(after.scope).toBe('mcp:tools')
    const call = await fetch(`${h.url}/mcp/tool/audit_query`, { method: 'POST', headers: { ...bearer(after.access_token), 'content-type': 'application/json' }, body: '{"limit":1}' })
    expect(call.status).toBe(403)
    expect(call.headers.get('www-authenticate')).toContain('error="insufficient_scope"')
  }, 90_000)

  test('24. an expired or revoked refresh token is invalid_grant, not invalid_request', async () => {
    const g = await grant()
    const d = db()
    d.run('UPDATE oauth_refresh_tokens SET expires_at = ? WHERE hash = ?', [Date.now() - 1, hashToken(g.tokens.refresh_token!)])
    d.close()
    expect(((await (await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: g.tokens.refresh_token!, client_id: g.clientId })).json()) as { error: string }).error).toBe('invalid_grant')
    const r = await grant()
    expect((await fetch(`${h.url}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: r.tokens.refresh_token!, client_id: r.clientId }).toString() })).status).toBe(200)
    expect(((await (await tokenRequest(h, { grant_type: 'refresh_token', refresh_token: r.tokens.refresh_token!, client_id: r.clientId })).json()) as { error: string }).error).toBe('invalid_grant')
  }, 30_000)

  test('25. token responses are JSON, never cached, and Bearer', async () => {
    const id = await publicClient(h)
    const c = await getCode(h, id, ada)
    const res = await tokenRequest(h, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: CALLBACK, client_id: id })
    expect(res.headers.get('content-type')).toBe('application/json')
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as { token_type: string; expires_in: number }
    expect(body.token_type).toBe('Bearer')
    expect(body.expires_in).toBeGreaterThanOrEqual(900)
    const err = await tokenRequest(h, { grant_type: 'password', client_id: id })
    expect(err.headers.get('cache-control')).toBe('no-store')
    expect(((await err.json()) as { error: string }).error).toBe('unsupported_grant_type')
  }, 30_000)
})

describe('resource server', () => {
  test('26. tokens for another audience, from another issuer, expired, unsigned or of another type are 401 invalid_token', async () => {
    const g = await grant()
    const claims = decodeJwt(g.tokens.access_token).payload
    const now = Math.floor(Date.now() / 1000)
    const header = { alg: 'HS256', typ: 'at+jwt' }
    const bad: [string, string][] = [
      ['another audience', forgeJwt(header, { ...claims, aud: 'https://other.example/mcp' }, JWT_SECRET)],
      ['another issuer', forgeJwt(header, { ...claims, iss: 'https://evil.example' }, JWT_SECRET)],
      ['expired', forgeJwt(header, { ...claims, iat: now - 7200, exp: now - 3600 }, JWT_SECRET)],
      ['alg none', forgeJwt({ alg: 'none', typ: 'at+jwt' }, claims)],
      ['typ JWT', forgeJwt({ alg: 'HS256', typ: 'JWT' }, claims, JWT_SECRET)],
      ['client_id without scope', forgeJwt(header, { ...claims, scope: undefined }, JWT_SECRET)],
      ['a magic-link token', (await requestLogin(h, 'bob@example.com')).token],
      ['a WebSocket ticket', await wsTicket(h.url, (await signIn(h, 'bob@example.com')).token)],
    ]
    expect(await mcpStatus(h, forgeJwt(header, claims, JWT_SECRET))).toBe(200)
    for (const [what, token] of bad) {
      const res = await fetch(`${h.url}/mcp`, { method: 'POST', headers: { ...bearer(token), 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' })
      expect({ what, status: res.status, invalid: (res.headers.get('www-authenticate') ?? '').includes('error="invalid_token"') }).toEqual({ what, status: 401, invalid: true })
    }
  }, 30_000)

  test('27. no token passthrough: no outbound request of the server forwards an inbound Authorization header', async () => {
    // Every outbound call the server makes: fetch() in src/. None may take headers from a request.
    const offenders: string[] = []
    for await (const file of new Bun.Glob('src/**/*.ts').scan('.')) {
      const text = await Bun.file(file).text()
      if (/\bfetch\(/.test(text) && /request\.headers\.get\(['"]authorization['"]\)[\s\S]{0,200}fetch\(|headers:\s*request\.headers/.test(text)) offenders.push(file)
    }
    expect(offenders).toEqual([])
    // The GitHub side (its token never reaching a client) is tested in github.test.ts.
  })

  test('28. a token only in the query string is 401', async () => {
    const g = await grant()
    const res = await fetch(`${h.url}/mcp?access_token=${g.tokens.access_token}`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' })
    expect(res.status).toBe(401)
  }, 30_000)

  test('29. /revoke or logout ends the grant on every instance at once, and closes its open SSE stream', async () => {
    const second = await startAuthServer({ MCPRAG_DATA_DIR: h.server.dataDir!, MCPRAG_JWT_SECRET: JWT_SECRET, MCPRAG_PUBLIC_URL: h.url })
    try {
      const g = await grant()
      const viaSecond = async (token: string) => {
        const res = await fetch(`${second.url}/mcp/tools`, { headers: { ...bearer(token), host: new URL(h.url).host } })
        await res.text()
        return res.status
      }
      expect(await viaSecond(g.tokens.access_token)).toBe(200)
      const { sse } = await openLegacyStream(`${h.url}/sse`, bearer(g.tokens.access_token))
      const revoked = await fetch(`${h.url}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: g.tokens.access_token, client_id: g.clientId }).toString() })
      expect(revoked.status).toBe(200)
      expect(await mcpStatus(h, g.tokens.access_token)).toBe(401)
      expect(await viaSecond(g.tokens.access_token)).toBe(401)
      await until(() => sse.ended, 5000, 'the SSE stream to close')
      // Logout (POST /auth/logout with the access token) ends a grant the same way.
      const g2 = await grant()
      expect((await fetch(`${h.url}/auth/logout`, { method: 'POST', headers: bearer(g2.tokens.access_token) })).status).toBe(200)
      expect(await viaSecond(g2.tokens.access_token)).toBe(401)
    } finally {
      await second.stop()
    }
  }, 60_000)

  test('30. an admin tools/call with an mcp:tools token is 403 insufficient_scope naming both scopes in one challenge', async () => {
    const g = await grant()
    const headers = { ...bearer(g.tokens.access_token), 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
    const init = await fetch(`${h.url}/mcp`, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }) })
    const session = { ...headers, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' }
    await fetch(`${h.url}/mcp`, { method: 'POST', headers: session, body: '{"jsonrpc":"2.0","method":"notifications/initialized"}' })
    const res = await fetch(`${h.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'audit_query', arguments: { limit: 1 } } }) })
    expect(res.status).toBe(403)
    const challenge = res.headers.get('www-authenticate')!
    expect(challenge).toStartWith('Bearer ')
    expect(challenge).toContain(`resource_metadata="${h.url}/.well-known/oauth-protected-resource/mcp"`)
    expect(challenge).toContain('scope="mcp:tools mcp:admin"')
    expect(challenge).toContain('error="insufficient_scope"')
    expect(challenge.match(/Bearer/g)).toHaveLength(1)
    // An ordinary tool still runs with the same token.
    const echo = await fetch(`${h.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }) })
    expect(echo.status).toBe(200)
  }, 30_000)
})

test('31. iss equals the metadata issuer exactly on every authorization response', async () => {
  const { issuer } = (await (await fetch(`${h.url}/.well-known/oauth-authorization-server`)).json()) as { issuer: string }
  const id = await publicClient(h)
  const ok = await getCode(h, id, ada)
  const err = await manual(authorizeUrl(h, id, { code_challenge_method: 'plain' }).url)
  expect(ok.redirect.searchParams.getAll('iss')).toEqual([issuer])
  expect(new URL(err.headers.get('location')!).searchParams.getAll('iss')).toEqual([issuer])
  // The v2 client refusing a tampered iss: sdk2.e2e.test.ts ("mix-up defence").
}, 30_000)
