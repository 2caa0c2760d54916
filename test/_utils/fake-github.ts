/**
 * A fake GitHub on a loopback port, enough of it for "sign in with GitHub": the authorize page
 * (it approves at once, or answers access_denied when told), the code exchange (single-use codes,
 * PKCE checked, JSON or form replies as GitHub gives them) and the two API reads. It records every
 * request it receives, so tests can check what the server sent it.
 */
import { createHash } from 'node:crypto'

export interface GithubUser {
  id: number
  login: string
  emails: { email: string; primary: boolean; verified: boolean }[]
}

export interface FakeGithub {
  url: string
  /** Who signs in next, or 'deny' for the user pressing Cancel. */
  next: GithubUser | 'deny'
  /** Every request received: method, path and its Authorization header. */
  requests: { method: string; path: string; authorization: string | null; body: string }[]
  /** Access tokens handed out (to look for leaks). */
  tokens: string[]
  stop(): void
}

export function startFakeGithub(clientId: string, clientSecret: string): FakeGithub {
  const codes = new Map<string, { user: GithubUser; challenge: string; redirectUri: string }>()
  const byToken = new Map<string, GithubUser>()
  const fake: FakeGithub = { url: '', next: 'deny', requests: [], tokens: [], stop: () => server.stop(true) }
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = new URL(req.url)
      const body = req.method === 'POST' ? await req.text() : ''
      fake.requests.push({ method: req.method, path: url.pathname, authorization: req.headers.get('authorization'), body })
      if (url.pathname === '/login/oauth/authorize') {
        const q = url.searchParams
        if (q.get('client_id') !== clientId || q.get('code_challenge_method') !== 'S256') return new Response('bad request', { status: 400 })
        const back = new URL(q.get('redirect_uri')!)
        if (fake.next === 'deny') back.searchParams.set('error', 'access_denied')
        else {
          const code = crypto.randomUUID()
          codes.set(code, { user: fake.next, challenge: q.get('code_challenge')!, redirectUri: q.get('redirect_uri')! })
          back.searchParams.set('code', code)
        }
        back.searchParams.set('state', q.get('state')!)
        return new Response(null, { status: 302, headers: { location: back.href } })
      }
      if (url.pathname === '/login/oauth/access_token') {
        const f = new URLSearchParams(body)
        const reply = (fields: Record<string, string>) =>
          req.headers.get('accept') === 'application/json' ? Response.json(fields) : new Response(new URLSearchParams(fields).toString(), { headers: { 'content-type': 'application/x-www-form-urlencoded' } })
        if (f.get('client_id') !== clientId || f.get('client_secret') !== clientSecret) return reply({ error: 'incorrect_client_credentials' })
        const code = codes.get(f.get('code') ?? '')
        codes.delete(f.get('code') ?? '')
        if (!code || createHash('sha256').update(f.get('code_verifier') ?? '').digest('base64url') !== code.challenge) return reply({ error: 'bad_verification_code' })
        if (f.get('redirect_uri') !== code.redirectUri) return reply({ error: 'redirect_uri_mismatch' })
        const token = `gho_${crypto.randomUUID().replaceAll('-', '')}`
        byToken.set(token, code.user)
        fake.tokens.push(token)
        return reply({ access_token: token, token_type: 'bearer', scope: 'read:user,user:email' })
      }
      const user = byToken.get(/^Bearer (.+)$/.exec(req.headers.get('authorization') ?? '')?.[1] ?? '')
      if (!user) return Response.json({ message: 'Bad credentials' }, { status: 401 })
      if (url.pathname === '/user') return Response.json({ id: user.id, login: user.login })
      if (url.pathname === '/user/emails') return Response.json(user.emails)
      return new Response('not found', { status: 404 })
    },
  })
  fake.url = `http://127.0.0.1:${server.port}`
  return fake
}
