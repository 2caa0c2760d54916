/**
 * @module oauth/authorize-routes
 * The authorization endpoint and the browser pages behind it:
 *   /authorize            check the request, park it (10 min, bound to this browser), go on to
 *                         sign-in or consent
 *   /oauth/login          email a sign-in link (or go to GitHub, oauth/github.ts)
 *   /oauth/email          the emailed link: a confirmation page (GET), then the sign-in (POST)
 *   /oauth/consent        name the client, its redirect host and the scopes; Allow mints a code
 * Consent is remembered per (user, client, redirect URI, scopes) and never covers admin access,
 * which needs a fresh TOTP code every time. Every POST passes the Origin guard, and the consent
 * POST also needs the parked request's CSRF token and this browser's cookie.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { Elysia } from 'elysia'
import { AuthError } from '../auth/errors.ts'
import { parseEmail } from '../auth/login.ts'
import { hashToken } from '../auth/one-time-tokens.ts'
import { LOGIN_TOKEN_PATTERN } from '../auth/magic-link.ts'
import { formTarget } from '../http/page.ts'
import { oauthError } from '../lib/respond.ts'
import { ROUTE_DOCS } from '../http/route-docs.ts'
import { readBody } from '../transports/http-guard.ts'
import { checkAuthorizeRequest } from './authorize-request.ts'
import type { BrowserCookie } from './browser-session.ts'
import type { ResolvedClient } from './clients.ts'
import { BROWSER_LOGIN_TTL_MS, CONSENT_TTL_MS, PENDING_TTL_MS, type OAuthContext } from './context.ts'
import type { Grants } from './grants.ts'
import { consentPage, emailConfirmPage, emailSentPage, errorPage, loginPage } from './pages.ts'
import { isLoopbackRedirect } from './redirect-uri.ts'
import { SCOPE_ADMIN } from '../auth/resources.ts'
import { scopeString } from './scopes.ts'
import type { BrowserLogin, PendingAuthorization } from './stores.ts'

const FORM_LIMIT_BYTES = 16 * 1024

/** A parked request found for this browser, with its handle. */
interface Parked {
  req: string
  pending: PendingAuthorization
  client: ResolvedClient
}

export function authorizeRoutes(ctx: OAuthContext, grants: Grants, cookie: BrowserCookie) {
  const { auth, stores } = ctx
  const now = ctx.now

  const audit = (request: Request, kind: string, outcome: string, fields: { userId?: string; email?: string; detail?: string } = {}) =>
    auth.audit.record({ kind, outcome, ...fields, clientAddress: auth.addressOf(request) })

  /** The client's redirect with the authorization response; `iss` always (RFC 9207), `state` when sent. */
  const redirect = (uri: string, params: Record<string, string | undefined>, headers: Record<string, string> = {}) => {
    const url = new URL(uri)
    for (const [k, v] of Object.entries({ ...params, iss: ctx.resources.issuer })) if (v !== undefined) url.searchParams.append(k, v)
    return new Response(null, { status: 302, headers: { location: url.href, 'cache-control': 'no-store', ...headers } })
  }
  const seeOther = (path: string, headers: Record<string, string> = {}) =>
    new Response(null, { status: 303, headers: { location: `${ctx.resources.issuer}${path}`, 'cache-control': 'no-store', ...headers } })

  const form = async (request: Request): Promise<URLSearchParams | Response> => {
    const ct = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (ct !== 'application/x-www-form-urlencoded') return errorPage(415, 'Unsupported request', 'Use the buttons on the sign-in pages.')
    const body = await readBody(request, FORM_LIMIT_BYTES)
    return 'tooLarge' in body ? errorPage(413, 'Request too large', 'The form is too large.') : new URLSearchParams(body.text)
  }

  const limited = async (request: Request): Promise<Response | undefined> => {
    const retryAfterS = await auth.limiter.take('auth', auth.addressOf(request), auth.limits.authPerAddress)
    if (retryAfterS === undefined) return undefined
    audit(request, 'rate_limited', 'denied', { detail: `${new URL(request.url).pathname}: sign-in requests from this address` })
    return errorPage(429, 'Too many requests', `Too many sign-in requests from this address: try again in ${retryAfterS} s.`)
  }

  /** The parked request `req` names, if it exists, belongs to this browser, and its client still resolves. */
  const parked = async (request: Request, req: string | null): Promise<Parked | Response> => {
    const gone = () => errorPage(400, 'Sign-in expired', 'This sign-in request has expired or was started in another browser. Start again from your application.')
    if (!req || req.length > 100) return gone()
    const handle = cookie.read(request)
    const pending = await stores.pending.get(hashToken(req), now())
    if (!pending || handle === undefined || !same(hashToken(handle), pending.browserHash)) return gone()
    const found = await ctx.clients.resolve(pending.clientId)
    if (!found.ok) return errorPage(400, 'Unknown application', `The application is no longer known to mcprag (${found.reason}).`)
    return { req, pending, client: found.client }
  }

  const signedIn = async (p: Parked): Promise<BrowserLogin | undefined> => stores.browserLogins.get(p.pending.browserHash, now())

  /** A form POST of the pages: Origin guard, sign-in budget, the form, and this browser's parked request first. */
  const formPost =
    (handle: (request: Request, f: URLSearchParams, p: Parked) => Promise<Response>) =>
    async ({ request }: { request: Request }): Promise<Response> => {
      const denied = ctx.guard.check(request)
      if (denied) return denied
      const tooMany = await limited(request)
      if (tooMany) return tooMany
      const f = await form(request)
      if (f instanceof Response) return f
      const p = await parked(request, f.get('req'))
      return p instanceof Response ? p : handle(request, f, p)
    }

  // ---- /authorize --------------------------------------------------------------------------
  const authorize = async ({ request }: { request: Request }): Promise<Response> => {
    const tooMany = await limited(request)
    if (tooMany) return tooMany
    let params: URLSearchParams
    if (request.method === 'POST') {
      const f = await form(request)
      if (f instanceof Response) return f
      params = f
    } else params = new URL(request.url).searchParams
    const found = await ctx.clients.resolve(params.get('client_id'))
    if (!found.ok) {
      audit(request, 'oauth_authorize_refused', 'denied', { detail: `invalid_client: ${found.reason}` })
      // JSON, never a redirect: there is no trustworthy redirect URI; mcp-remote re-registers on this.
      return oauthError(400, 'invalid_client', `Unknown client: ${found.reason}`)
    }
    const client = found.client
    const check = checkAuthorizeRequest(params, client, ctx.resources)
    if (!check.ok) {
      audit(request, 'oauth_authorize_refused', 'denied', { detail: 'page' in check ? check.page : `${check.error}: ${check.description}` })
      if ('page' in check) return errorPage(400, 'Invalid authorization request', check.page)
      return redirect(check.redirectUri, { error: check.error, error_description: check.description, state: check.state })
    }
    const r = check.request
    const existing = cookie.read(request)
    const fresh = existing === undefined ? cookie.issue(BROWSER_LOGIN_TTL_MS / 1000) : undefined
    const browserHash = fresh?.hash ?? hashToken(existing!)
    const req = randomBytes(32).toString('base64url')
    await stores.pending.put(
      hashToken(req),
      { clientId: client.clientId, redirectUri: r.redirectUri, state: r.state, codeChallenge: r.codeChallenge, resource: r.resource, scope: scopeString(r.scopes), browserHash, csrf: randomBytes(32).toString('base64url') },
      now() + PENDING_TTL_MS,
    )
    const next = (await stores.browserLogins.get(browserHash, now())) ? '/oauth/consent' : '/oauth/login'
    return seeOther(`${next}?req=${req}`, fresh ? { 'set-cookie': fresh.setCookie } : {})
  }

  // ---- sign-in -----------------------------------------------------------------------------
  const githubOrigin = ctx.settings.github ? formTarget(ctx.settings.github.oauthUrl) : undefined
  const loginGet = async ({ request }: { request: Request }) => {
    const p = await parked(request, new URL(request.url).searchParams.get('req'))
    if (p instanceof Response) return p
    return loginPage({ req: p.req, clientName: clientLabel(p.client), github: ctx.settings.github !== undefined, githubOrigin, redirectTarget: formTarget(p.pending.redirectUri) })
  }

  const loginPost = formPost(async (request, f, p) => {
    let email: string
    try {
      email = parseEmail(f.get('email'))
    } catch (err) {
      if (!(err instanceof AuthError)) throw err
      return loginPage({ req: p.req, clientName: clientLabel(p.client), github: ctx.settings.github !== undefined, githubOrigin, redirectTarget: formTarget(p.pending.redirectUri), error: 'Enter an email address such as ada@example.com.' }, 400)
    }
    const retryAfterS = await auth.requestSignIn(email, auth.addressOf(request), (token) => `${ctx.resources.issuer}/oauth/email?req=${p.req}&token=${token}`)
    if (retryAfterS !== undefined) return errorPage(429, 'Too many sign-in emails', `Too many sign-in emails for this address: try again in ${retryAfterS} s.`)
    return emailSentPage()
  })

  const emailGet = async ({ request }: { request: Request }) => {
    const q = new URL(request.url).searchParams
    const token = q.get('token')
    if (token === null || !LOGIN_TOKEN_PATTERN.test(token)) return errorPage(400, 'Invalid sign-in link', 'Copy the whole link from the email, or request a new one.')
    const p = await parked(request, q.get('req'))
    if (p instanceof Response) return p
    // Nothing is consumed here: mail scanners that open links must not sign anyone in.
    return emailConfirmPage(p.req, token, formTarget(p.pending.redirectUri))
  }

  const emailPost = formPost(async (request, f, p) => {
    let userId: string
    try {
      userId = (await auth.login.redeem(f.get('token'), auth.addressOf(request), 'oauth')).id
    } catch (err) {
      if (err instanceof AuthError && err.status === 401) return errorPage(401, 'Sign-in failed', 'The sign-in link is invalid, expired or already used: request a new one.')
      throw err
    }
    return signBrowserIn(p, { userId, authTime: now(), amr: ['email'] })
  })

  /** A new browser handle for a signed-in browser, its parked request moved over; on to consent. */
  const signBrowserIn = async (p: Parked, login: BrowserLogin): Promise<Response> => {
    const fresh = cookie.issue(BROWSER_LOGIN_TTL_MS / 1000)
    await stores.browserLogins.put(fresh.hash, login, now() + BROWSER_LOGIN_TTL_MS)
    await stores.pending.put(hashToken(p.req), { ...p.pending, browserHash: fresh.hash }, now() + PENDING_TTL_MS)
    await stores.browserLogins.delete(p.pending.browserHash)
    return seeOther(`/oauth/consent?req=${p.req}`, { 'set-cookie': fresh.setCookie })
  }

  // ---- consent -----------------------------------------------------------------------------
  const consentKey = (userId: string, p: PendingAuthorization) =>
    createHash('sha256').update([userId, p.clientId, p.redirectUri, p.scope, p.resource].join('\n')).digest('hex')

  /** What the consent page needs to know about admin access for this user. */
  const adminState = async (userId: string, tier: string, scopes: string[]): Promise<{ askTotp: boolean; adminRefused?: string }> => {
    if (!scopes.includes(SCOPE_ADMIN)) return { askTotp: false }
    if (tier !== 'admin') return { askTotp: false, adminRefused: 'your account is not an admin.' }
    if (!(await auth.totp.isEnrolled(userId))) return { askTotp: false, adminRefused: 'no authenticator app is enrolled for your account (POST /auth/totp/enroll).' }
    return { askTotp: true }
  }

  const renderConsent = async (p: Parked, login: BrowserLogin, status = 200, error?: string): Promise<Response> => {
    const user = await auth.stores.users.get(login.userId)
    const scopes = p.pending.scope.split(' ')
    const admin = await adminState(login.userId, user?.tier ?? 'public', scopes)
    return consentPage(
      {
        req: p.req,
        csrf: p.pending.csrf,
        email: user?.email ?? login.userId,
        clientName: clientLabel(p.client),
        clientId: p.client.clientId,
        redirectUri: p.pending.redirectUri,
        documentHost: p.client.documentHost,
        loopbackOnly: isLoopbackRedirect(p.pending.redirectUri),
        scopes,
        ...admin,
        error,
        redirectTarget: formTarget(p.pending.redirectUri),
      },
      status,
    )
  }

  /** Mint the code and send the browser back to the client; the parked request is used up. */
  const approve = async (request: Request, p: Parked, login: BrowserLogin, scopes: string[], mfaAt?: number): Promise<Response> => {
    const taken = await stores.pending.take(hashToken(p.req), now())
    if (!taken) return errorPage(400, 'Already answered', 'This request was already answered. Start again from your application.')
    const scope = scopeString(scopes)
    const code = await grants.issueCode({
      clientId: taken.clientId,
      redirectUri: taken.redirectUri,
      codeChallenge: taken.codeChallenge,
      resource: taken.resource,
      scope,
      userId: login.userId,
      authTime: login.authTime,
      amr: mfaAt === undefined ? login.amr : [...login.amr, 'otp'],
      ...(mfaAt === undefined ? {} : { mfaAt }),
    })
    audit(request, 'oauth_code_issued', 'ok', { userId: login.userId, detail: `client ${taken.clientId}; scope ${scope}; resource ${taken.resource}` })
    return redirect(taken.redirectUri, { code, state: taken.state })
  }

  const consentGet = async ({ request }: { request: Request }) => {
    const p = await parked(request, new URL(request.url).searchParams.get('req'))
    if (p instanceof Response) return p
    const login = await signedIn(p)
    if (!login) return seeOther(`/oauth/login?req=${p.req}`)
    const scopes = p.pending.scope.split(' ')
    // Remembered consent skips the page, never for admin access and never for another client,
    // redirect URI, resource or scope set (the key holds all of them).
    if (!scopes.includes(SCOPE_ADMIN) && (await stores.consents.has(consentKey(login.userId, p.pending), now()))) {
      audit(request, 'oauth_consent', 'remembered', { userId: login.userId, detail: `client ${p.client.clientId}` })
      return approve(request, p, login, scopes)
    }
    return renderConsent(p, login)
  }

  const consentPost = formPost(async (request, f, p) => {
    const csrf = f.get('csrf')
    if (csrf === null || !same(csrf, p.pending.csrf)) {
      audit(request, 'oauth_consent', 'denied', { detail: 'CSRF token missing or wrong' })
      return errorPage(403, 'Request refused', 'This form was not sent from the consent page. Start again from your application.')
    }
    const login = await signedIn(p)
    if (!login) return seeOther(`/oauth/login?req=${p.req}`)
    const user = await auth.stores.users.get(login.userId)
    if (!user) return seeOther(`/oauth/login?req=${p.req}`)
    if (f.get('action') !== 'approve') {
      await stores.pending.take(hashToken(p.req), now())
      audit(request, 'oauth_consent', 'denied', { userId: user.id, email: user.email, detail: `client ${p.client.clientId}: the user denied access` })
      return redirect(p.pending.redirectUri, { error: 'access_denied', error_description: 'The user denied access', state: p.pending.state })
    }
    let scopes = p.pending.scope.split(' ')
    const admin = await adminState(user.id, user.tier, scopes)
    let mfaAt: number | undefined
    if (admin.adminRefused) scopes = scopes.filter((s) => s !== SCOPE_ADMIN)
    else if (admin.askTotp) {
      try {
        await auth.totp.verify(user.id, f.get('totp_code'))
      } catch (err) {
        if (!(err instanceof AuthError)) throw err
        audit(request, 'mfa_failed', 'denied', { userId: user.id, email: user.email, detail: `consent: ${err.opts.detail ?? err.code}` })
        return renderConsent(p, login, err.status === 429 ? 429 : 401, err.message)
      }
      mfaAt = now()
      audit(request, 'mfa_verified', 'ok', { userId: user.id, email: user.email, detail: `consent for client ${p.client.clientId}` })
    }
    if (!scopes.includes(SCOPE_ADMIN)) await stores.consents.remember(consentKey(user.id, { ...p.pending, scope: scopeString(scopes) }), now() + CONSENT_TTL_MS)
    audit(request, 'oauth_consent', 'ok', { userId: user.id, email: user.email, detail: `client ${p.client.clientId}; scope ${scopeString(scopes)}` })
    return approve(request, p, login, scopes, mfaAt)
  })

  return {
    /** Continue a parked request with a browser signed in elsewhere (GitHub). */
    parked,
    signBrowserIn,
    plugin: new Elysia({ name: 'oauth:authorize' })
      .get('/authorize', authorize, { detail: ROUTE_DOCS.oauth('Authorization endpoint', 'Opened in the browser: sign-in, then consent, then a redirect to the client with code, state and iss.') })
      .post('/authorize', authorize, { parse: 'none', detail: ROUTE_DOCS.hidden })
      .get('/oauth/login', loginGet, { detail: ROUTE_DOCS.hidden })
      .post('/oauth/login', loginPost, { parse: 'none', detail: ROUTE_DOCS.hidden })
      .get('/oauth/email', emailGet, { detail: ROUTE_DOCS.hidden })
      .post('/oauth/email', emailPost, { parse: 'none', detail: ROUTE_DOCS.hidden })
      .get('/oauth/consent', consentGet, { detail: ROUTE_DOCS.hidden })
      .post('/oauth/consent', consentPost, { parse: 'none', detail: ROUTE_DOCS.hidden }),
  }
}

/** How a client is named on the pages: its name, else its id. */
export const clientLabel = (c: ResolvedClient) => c.clientName ?? c.clientId

function same(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}
