/**
 * "Sign in with GitHub" on the authorization server's sign-in page, against a fake GitHub on
 * loopback (GITHUB_OAUTH_URL / GITHUB_API_URL): linking by numeric id through a primary verified
 * email only, state and PKCE to GitHub, refusals, and no token crossing between GitHub and the
 * MCP client in either direction.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { TOTP } from 'otpauth'
import { enrolTotp, ensureUser, signIn, startHarness, type Harness } from '../_utils/auth.ts'
import { authorizeInBrowser } from '../_utils/browser-agent.ts'
import { startFakeGithub, type FakeGithub } from '../_utils/fake-github.ts'
import { CALLBACK, authorizeUrl, exchange, getCode, mcpStatus, publicClient } from '../_utils/oauth.ts'

let gh: FakeGithub
let h: Harness
let totp: TOTP
const ADA = { id: 1001, login: 'ada', emails: [{ email: 'ada@example.com', primary: true, verified: true }] }
beforeAll(async () => {
  gh = startFakeGithub('gh-client', 'gh-secret')
  h = await startHarness({ GITHUB_CLIENT_ID: 'gh-client', GITHUB_CLIENT_SECRET: 'gh-secret', GITHUB_OAUTH_URL: gh.url, GITHUB_API_URL: gh.url })
  totp = await enrolTotp(h, await signIn(h, 'ada@example.com', 'admin'))
  await ensureUser(h, 'grace@example.com', 'user')
})
afterAll(async () => {
  await h.stop()
  gh.stop()
})

test('a GitHub user with a primary verified email is linked to that account and signs the client in; no token crosses over', async () => {
  gh.next = ADA
  const id = await publicClient(h)
  const c = await getCode(h, id, { email: 'unused', github: gh.url })
  expect(c.pages).toEqual(['/oauth/login', '/oauth/consent'])
  const tokens = await exchange(h, id, c)
  expect(await mcpStatus(h, tokens.access_token)).toBe(200)
  // PKCE to GitHub: the exchange carried a verifier GitHub checked against the challenge.
  const exchangeRequest = gh.requests.find((r) => r.path === '/login/oauth/access_token')!
  expect(new URLSearchParams(exchangeRequest.body).get('code_verifier')).toMatch(/^[\w-]{43}$/)
  // The GitHub token never reaches the MCP client, and our tokens never reach GitHub.
  const ghToken = gh.tokens.at(-1)!
  expect(JSON.stringify(tokens)).not.toContain(ghToken)
  expect(c.redirect.href).not.toContain(ghToken)
  for (const r of gh.requests) {
    expect(r.authorization === null || r.authorization === `Bearer ${ghToken}` || gh.tokens.some((t) => r.authorization === `Bearer ${t}`)).toBe(true)
    expect(r.body).not.toContain(tokens.access_token)
  }
  const user = await h.server.auth!.stores.users.getByEmail('ada@example.com')
  const audit = await h.server.auth!.audit.query({ limit: 10, kind: 'github_login' })
  expect(audit[0]).toMatchObject({ outcome: 'ok', userId: user!.id })
}, 30_000)

test('a second sign-in finds the link by GitHub id, even after the email changed on GitHub', async () => {
  gh.next = { ...ADA, emails: [{ email: 'ada@new.example', primary: true, verified: true }] }
  const id = await publicClient(h)
  const c = await getCode(h, id, { email: 'unused', github: gh.url })
  expect((await exchange(h, id, c)).access_token).toBeTruthy()
}, 30_000)

test('an unverified primary email is not linked to the account that has it', async () => {
  gh.next = { id: 2002, login: 'mallory', emails: [{ email: 'grace@example.com', primary: true, verified: false }] }
  const started = authorizeUrl(h, await publicClient(h))
  await expect(authorizeInBrowser(started.url, { h, email: 'unused', github: gh.url })).rejects.toThrow('403')
}, 30_000)

test('cancelling at GitHub sends the MCP client access_denied with its state and our iss', async () => {
  gh.next = 'deny'
  const started = authorizeUrl(h, await publicClient(h))
  const { redirect } = await authorizeInBrowser(started.url, { h, email: 'unused', github: gh.url })
  expect(`${redirect.origin}${redirect.pathname}`).toBe(CALLBACK)
  expect(Object.fromEntries(redirect.searchParams)).toMatchObject({ error: 'access_denied', state: started.state, iss: h.url })
}, 30_000)

test('a callback with a foreign state, or replayed, is refused and signs no one in', async () => {
  gh.next = ADA
  const forged = await fetch(`${h.url}/oauth/github/callback?code=x&state=${'s'.repeat(43)}`, { redirect: 'manual' })
  expect(forged.status).toBe(400)
  expect(forged.headers.getSetCookie()).toEqual([])
  // Capture a real callback URL, use it, then replay it.
  const started = authorizeUrl(h, await publicClient(h))
  const first = await fetch(started.url, { redirect: 'manual' })
  const cookie = first.headers.getSetCookie()[0]!.split(';')[0]!
  const req = /req=([\w-]+)/.exec(first.headers.get('location')!)![1]!
  const toGithub = await fetch(`${h.url}/oauth/github`, { method: 'POST', redirect: 'manual', headers: { cookie, origin: h.url, 'content-type': 'application/x-www-form-urlencoded' }, body: `req=${req}` })
  const callback = (await fetch(toGithub.headers.get('location')!, { redirect: 'manual' })).headers.get('location')!
  expect((await fetch(callback, { redirect: 'manual', headers: { cookie } })).status).toBe(303)
  const replay = await fetch(callback, { redirect: 'manual', headers: { cookie } })
  expect(replay.status).toBe(400)
  // And from another browser (no cookie) a fresh state would not be accepted either.
  expect((await fetch(callback, { redirect: 'manual' })).status).toBe(400)
}, 30_000)

test('GitHub sign-in is one factor: admin access still asks for a TOTP code', async () => {
  gh.next = ADA
  const started = authorizeUrl(h, await publicClient(h), { scope: 'mcp:tools mcp:admin' })
  const { html, redirect } = await authorizeInBrowser(started.url, { h, email: 'unused', github: gh.url, totp })
  expect(html['/oauth/consent']).toContain('name="totp_code"')
  expect(redirect.searchParams.get('code')).toBeTruthy()
}, 90_000)
