/**
 * @module oauth/github
 * "Sign in with GitHub" on the sign-in page, as another way to sign the browser in to the
 * authorization server (the MCP client still sees only this server's codes and tokens):
 *   POST /oauth/github           from the sign-in page: a random `state` and a PKCE verifier are
 *                                stored (single use, 10 min, bound to this browser and the parked
 *                                request), then the browser goes to GitHub
 *   GET  /oauth/github/callback  the state is taken once, the code exchanged (with the verifier),
 *                                the user read from `/user` and `/user/emails`
 * Accounts are linked by GitHub's numeric id. A GitHub account is linked to an existing user only
 * through its primary, verified email; otherwise a user is created only when sign-up allows that
 * address. GitHub sign-in is one factor: admin access still needs TOTP on the consent page. The
 * GitHub token is used for those two reads and dropped; it is never stored or passed on.
 */
import { randomBytes } from 'node:crypto'
import { Elysia } from 'elysia'
import { normaliseEmail } from '../auth/login.ts'
import { hashToken } from '../auth/one-time-tokens.ts'
import { ROUTE_DOCS } from '../http/route-docs.ts'
import { readBody } from '../transports/http-guard.ts'
import type { authorizeRoutes } from './authorize-routes.ts'
import type { BrowserCookie } from './browser-session.ts'
import { PENDING_TTL_MS, type GithubSettings, type OAuthContext } from './context.ts'
import { errorPage } from './pages.ts'
import { s256 } from './pkce.ts'

const GITHUB_TIMEOUT_MS = 10_000

type Flow = Pick<ReturnType<typeof authorizeRoutes>, 'parked' | 'signBrowserIn'>

interface GithubEmail {
  email: string
  primary: boolean
  verified: boolean
}

export function githubRoutes(ctx: OAuthContext, gh: GithubSettings, cookie: BrowserCookie, flow: Flow) {
  const { auth, stores } = ctx
  const callbackUrl = () => `${ctx.resources.issuer}/oauth/github/callback`
  const audit = (request: Request, outcome: string, detail: string, userId?: string) =>
    auth.audit.record({ kind: 'github_login', outcome, userId, detail, clientAddress: auth.addressOf(request) })

  const start = async ({ request }: { request: Request }) => {
    const denied = ctx.guard.check(request)
    if (denied) return denied
    const body = await readBody(request, 4096)
    const form = new URLSearchParams('tooLarge' in body ? '' : body.text)
    const p = await flow.parked(request, form.get('req'))
    if (p instanceof Response) return p
    const state = randomBytes(32).toString('base64url')
    const codeVerifier = randomBytes(32).toString('base64url')
    await stores.githubStates.put(hashToken(state), { requestId: p.req, codeVerifier, browserHash: p.pending.browserHash }, ctx.now() + PENDING_TTL_MS)
    const url = new URL(`${gh.oauthUrl}/login/oauth/authorize`)
    url.search = new URLSearchParams({
      client_id: gh.clientId,
      redirect_uri: callbackUrl(),
      scope: 'read:user user:email',
      state,
      code_challenge: s256(codeVerifier),
      code_challenge_method: 'S256',
      allow_signup: 'false',
    }).toString()
    return new Response(null, { status: 303, headers: { location: url.href, 'cache-control': 'no-store' } })
  }

  const callback = async ({ request }: { request: Request }) => {
    const q = new URL(request.url).searchParams
    const state = q.get('state')
    const handle = cookie.read(request)
    const saved = state ? await stores.githubStates.take(hashToken(state), ctx.now()) : undefined
    if (!saved || handle === undefined || hashToken(handle) !== saved.browserHash) {
      audit(request, 'denied', 'unknown, used or foreign state')
      return errorPage(400, 'GitHub sign-in failed', 'This GitHub sign-in was not started here, or was already used. Start again from your application.')
    }
    const p = await flow.parked(request, saved.requestId)
    if (p instanceof Response) return p
    if (q.get('error') !== null) {
      // The user refused at GitHub: the MCP client hears access_denied, with its state and our iss.
      await stores.pending.take(hashToken(p.req), ctx.now())
      audit(request, 'denied', `GitHub answered ${q.get('error')}`)
      const url = new URL(p.pending.redirectUri)
      for (const [k, v] of Object.entries({ error: 'access_denied', error_description: 'Sign-in with GitHub was cancelled', state: p.pending.state, iss: ctx.resources.issuer }))
        if (v !== undefined) url.searchParams.append(k, v)
      return new Response(null, { status: 302, headers: { location: url.href, 'cache-control': 'no-store' } })
    }
    const identity = await readIdentity(gh, q.get('code'), saved.codeVerifier, callbackUrl())
    if ('error' in identity) {
      audit(request, 'failed', identity.error)
      return errorPage(502, 'GitHub sign-in failed', `GitHub did not confirm the sign-in (${identity.error}). Try again.`)
    }
    const userId = await userFor(identity)
    if (userId === undefined) {
      audit(request, 'denied', `GitHub user ${identity.id} has no account here`)
      return errorPage(403, 'No account', 'This GitHub account is not linked to an mcprag account, and its verified primary email may not sign up. Sign in with your email instead.')
    }
    audit(request, 'ok', `GitHub user ${identity.id}`, userId)
    return flow.signBrowserIn(p, { userId, authTime: ctx.now(), amr: ['github'] })
  }

  /** Our user for a GitHub identity: linked by id, or linked now through the primary verified email. */
  const userFor = async (identity: { id: number; primaryVerifiedEmail?: string }): Promise<string | undefined> => {
    const linked = await stores.githubLinks.get(identity.id)
    if (linked !== undefined && (await auth.stores.users.get(linked))) return linked
    if (identity.primaryVerifiedEmail === undefined) return undefined
    const user = await auth.login.userFor(normaliseEmail(identity.primaryVerifiedEmail))
    if (!user) return undefined
    return stores.githubLinks.link(identity.id, user.id)
  }

  return new Elysia({ name: 'oauth:github' }).post('/oauth/github', start, { parse: 'none', detail: ROUTE_DOCS.hidden }).get('/oauth/github/callback', callback, { detail: ROUTE_DOCS.hidden })
}

/** Exchange GitHub's code and read who signed in; the GitHub token lives only inside this call. */
async function readIdentity(gh: GithubSettings, code: string | null, codeVerifier: string, redirectUri: string): Promise<{ id: number; primaryVerifiedEmail?: string } | { error: string }> {
  if (!code) return { error: 'no code' }
  const signal = AbortSignal.timeout(GITHUB_TIMEOUT_MS)
  try {
    const res = await fetch(`${gh.oauthUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: gh.clientId, client_secret: gh.clientSecret, code, redirect_uri: redirectUri, code_verifier: codeVerifier }),
      signal,
    })
    // GitHub answers errors with 200 and an `error` field; JSON when asked, else a form.
    const text = await res.text()
    const fields: Record<string, unknown> = res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : Object.fromEntries(new URLSearchParams(text))
    const token = fields.access_token
    if (!res.ok || typeof token !== 'string' || fields.error !== undefined) return { error: `token exchange: ${String(fields.error ?? res.status)}` }
    const headers = { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json', 'user-agent': 'mcprag' }
    const [user, emails] = await Promise.all([fetch(`${gh.apiUrl}/user`, { headers, signal }), fetch(`${gh.apiUrl}/user/emails`, { headers, signal })])
    if (!user.ok) return { error: `GET /user answered ${user.status}` }
    const id = ((await user.json()) as { id?: unknown }).id
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return { error: 'GET /user has no numeric id' }
    const list = emails.ok ? ((await emails.json()) as GithubEmail[]) : []
    const primary = Array.isArray(list) ? list.find((e) => e && e.primary === true && e.verified === true && typeof e.email === 'string') : undefined
    return { id, ...(primary ? { primaryVerifiedEmail: primary.email } : {}) }
  } catch (err) {
    return { error: err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'network error' }
  }
}
