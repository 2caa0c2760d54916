/**
 * @module http/auth-routes
 * The /auth/* REST routes: magic-link login and callback, TOTP enrolment and verification,
 * WebSocket tickets, logout. Thin: each parses its input, calls an auth service, and answers; `AuthError`s become
 * responses in one place. Every route passes the Origin/Host guard and spends the client
 * address's auth budget first.
 *
 * The emailed link points at GET /auth/sign-in?token=…, which only ever shows a confirmation page
 * whose button POSTs the token: mail scanners that open links (whatever they accept) consume
 * nothing. GET /auth/callback?token=… is the REST clients' call: it consumes the token and answers
 * JSON unless the client is a browser (`Accept` lists text/html: it gets the confirmation page);
 * `Accept: *` + `/*` or no Accept (curl, Python's requests and aiohttp) is a REST client. HEAD
 * never consumes.
 */
import { Elysia } from 'elysia'
import QRCode from 'qrcode'
import type { Auth } from '../auth/auth.ts'
import { AuthError, tooManyRequests } from '../auth/errors.ts'
import { parseEmail } from '../auth/email.ts'
import type { Principal } from '../core/types.ts'
import { acceptedTypes, isJsonContentType, readBody, type HttpGuard } from '../transports/http-guard.ts'
import { confirmationPage, signInFailedPage, signedInPage } from './callback-page.ts'
import { NO_STORE, json } from '../lib/respond.ts'
import { AUTH_BODY_LIMIT_BYTES, AUTH_JSON_LIMITS, authErrorResponse, readJsonObject } from './rest.ts'
import { ROUTE_DOCS } from './route-docs.ts'

export interface AuthRoutesOptions {
  auth: Auth
  guard: HttpGuard
}

type Handler = (request: Request, cors: Record<string, string>) => Promise<Response>

/** A browser asks for pages; REST clients ask for JSON or for anything. */
function wantsPage(request: Request): boolean {
  return acceptedTypes(request).includes('text/html')
}

export function authRoutes({ auth, guard }: AuthRoutesOptions) {
  const seconds = (ms: number) => Math.floor(ms / 1000)

  const route = (handler: Handler) => async ({ request }: { request: Request }): Promise<Response> => {
    const denied = guard.check(request)
    if (denied) return denied
    const cors = guard.cors(request)
    const address = auth.addressOf(request)
    try {
      const retryAfterS = await auth.limiter.take('auth', address, auth.limits.authPerAddress)
      if (retryAfterS !== undefined) throw tooManyRequests(retryAfterS, 'sign-in requests from this address')
      return await handler(request, cors)
    } catch (err) {
      // Body refusals (400/413/415) are thrown as ready responses.
      if (err instanceof Response) return err
      if (!(err instanceof AuthError)) throw err
      if (err.status === 429)
        auth.audit.refusal({ kind: 'rate_limited', outcome: 'denied', detail: `${new URL(request.url).pathname}: ${err.opts.detail ?? ''}`, clientAddress: address })
      return authErrorResponse(err, auth.resourceMetadataFor(request), cors)
    }
  }

  const signedIn = async (request: Request): Promise<Principal & { authSessionId: string }> => {
    const p = await auth.bearer.authenticate(request)
    if (p instanceof AuthError) throw p
    return p as Principal & { authSessionId: string }
  }

  const jsonBody = async (request: Request, allowEmpty = false) => {
    const body = await readJsonObject(request, AUTH_JSON_LIMITS, { allowEmpty })
    if (body instanceof Response) throw body
    return body
  }

  const login: Handler = async (request, cors) => {
    const body = await jsonBody(request)
    const email = parseEmail(body.email)
    const retryAfterS = await auth.requestSignIn(email, auth.addressOf(request))
    if (retryAfterS !== undefined) throw tooManyRequests(retryAfterS, 'sign-in emails for this address')
    return json(
      200,
      { status: 'ok', message: 'If this address may sign in, a sign-in email is on its way: open its link, or paste its token into GET /auth/callback?token=…' },
      cors,
    )
  }

  const callbackGet: Handler = async (request, cors) => {
    const token = new URL(request.url).searchParams.get('token')
    // HEAD runs this handler too: it never consumes, whatever it accepts.
    if (request.method !== 'GET' || wantsPage(request)) return confirmationPage(token)
    const done = await auth.login.complete(token, auth.addressOf(request))
    return json(200, done, { ...cors, ...NO_STORE })
  }

  // Where the emailed link points: a page, never a sign-in, for any client (mail scanners included).
  const signInPage: Handler = async (request) => confirmationPage(new URL(request.url).searchParams.get('token'))

  const callbackPost: Handler = async (request, cors) => {
    if (isJsonContentType(request)) {
      const body = await jsonBody(request)
      const done = await auth.login.complete(body.token, auth.addressOf(request))
      return json(200, done, { ...cors, ...NO_STORE })
    }
    // The confirmation page's form.
    const ct = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (ct !== 'application/x-www-form-urlencoded') return signInFailedPage('Unsupported request: use the button on the sign-in page.', 415)
    const body = await readBody(request, AUTH_BODY_LIMIT_BYTES)
    if ('tooLarge' in body) return signInFailedPage('The request is too large.', 413)
    try {
      return signedInPage(await auth.login.complete(new URLSearchParams(body.text).get('token'), auth.addressOf(request)))
    } catch (err) {
      if (err instanceof AuthError && err.status === 401) return signInFailedPage(err.message, 401)
      throw err
    }
  }

  const verifyMfa: Handler = async (request, cors) => {
    const principal = await signedIn(request)
    const body = await jsonBody(request)
    const fail = (detail: string) => auth.audit.record({ kind: 'mfa_failed', outcome: 'denied', userId: principal.id, email: principal.email, detail, clientAddress: auth.addressOf(request) })
    if (typeof body.user_id !== 'string') throw new AuthError(400, 'invalid_request', '"user_id" must be the signed-in user\'s id (a string)')
    // Bind to the bearer's own user: a valid code for another account must not upgrade this session.
    if (body.user_id !== principal.id) {
      fail('user_id does not match the bearer')
      throw new AuthError(403, 'forbidden', '"user_id" does not match the signed-in user: verify with your own user id')
    }
    try {
      await auth.totp.verify(principal.id, body.totp_code)
    } catch (err) {
      if (err instanceof AuthError) fail(err.opts.detail ?? err.code)
      throw err
    }
    const until = await auth.sessions.markMfaVerified(principal.authSessionId)
    auth.audit.record({ kind: 'mfa_verified', outcome: 'ok', userId: principal.id, email: principal.email, tier: principal.tier, clientAddress: auth.addressOf(request) })
    return json(200, { user_id: principal.id, mfa_verified: true, mfa_expires_at: seconds(until) }, cors)
  }

  const enrol: Handler = async (request, cors) => {
    const principal = await signedIn(request)
    const body = await jsonBody(request, true)
    const address = auth.addressOf(request)
    if (await auth.totp.isEnrolled(principal.id)) {
      // Replacing a confirmed authenticator needs that authenticator first (a stolen session must not swap it).
      if ((await auth.sessions.mfaVerifiedUntil(principal.authSessionId)) === undefined)
        throw new AuthError(403, 'mfa_required', 'An authenticator is already enrolled: verify a code from it (POST /auth/verify-mfa) before enrolling a new one')
    } else {
      // The first one needs the mailbox again: a bearer token alone must not bind an authenticator.
      const who = { userId: principal.id, email: principal.email ?? '', authSessionId: principal.authSessionId }
      if (body.enrolment_code === undefined) {
        await auth.enrolmentCodes.send(who)
        auth.audit.record({ kind: 'totp_enrolment_code_sent', outcome: 'ok', userId: principal.id, email: principal.email, clientAddress: address })
        return json(
          202,
          {
            status: 'enrolment_code_sent',
            message: `To enrol a first authenticator, prove you still read your mailbox: a code was emailed to your address (valid ${seconds(auth.enrolmentCodes.ttlMs) / 60} minutes)`,
            next: 'POST /auth/totp/enroll with {"enrolment_code": "enr_…"} and this same token',
          },
          { ...cors, ...NO_STORE },
        )
      }
      if (!(await auth.enrolmentCodes.redeem(body.enrolment_code, who))) {
        auth.audit.record({ kind: 'totp_enrolment_code_failed', outcome: 'denied', userId: principal.id, email: principal.email, clientAddress: address })
        throw new AuthError(401, 'invalid_code', 'The enrolment code is invalid, expired, used, or was sent for another sign-in: POST /auth/totp/enroll without a code to get a new one')
      }
    }
    const { uri, secret } = await auth.totp.enrol({ id: principal.id, email: principal.email ?? principal.id }, principal.authSessionId)
    auth.audit.record({ kind: 'totp_enrolment_started', outcome: 'ok', userId: principal.id, email: principal.email, clientAddress: auth.addressOf(request) })
    const qr = await QRCode.toDataURL(uri, { errorCorrectionLevel: 'M', margin: 2, width: 240 })
    return json(200, { otpauth_uri: uri, secret, qr_code: qr, next: 'POST /auth/totp/confirm with {"totp_code": "<6 digits>"}' }, { ...cors, ...NO_STORE })
  }

  const confirm: Handler = async (request, cors) => {
    const principal = await signedIn(request)
    const body = await jsonBody(request)
    try {
      await auth.totp.confirm(principal.id, principal.authSessionId, body.totp_code)
    } catch (err) {
      if (err instanceof AuthError)
        auth.audit.record({ kind: 'totp_confirm_failed', outcome: 'denied', userId: principal.id, email: principal.email, detail: err.opts.detail ?? err.code })
      throw err
    }
    // The first code proves possession on this session, like a verification.
    const until = await auth.sessions.markMfaVerified(principal.authSessionId)
    auth.audit.record({ kind: 'totp_enrolled', outcome: 'ok', userId: principal.id, email: principal.email, clientAddress: auth.addressOf(request) })
    return json(200, { enrolled: true, mfa_verified: true, mfa_expires_at: seconds(until) }, cors)
  }

  // A ticket stands for the bearer's own auth session (see auth/ws-ticket.ts); it is issued for a
  // bearer token only, never for another ticket.
  const wsTicket: Handler = async (request, cors) => {
    const principal = await signedIn(request)
    const { ticket } = await auth.tickets.issue(principal.authSessionId)
    auth.audit.record({ kind: 'ws_ticket_issued', outcome: 'ok', userId: principal.id, email: principal.email, clientAddress: auth.addressOf(request) })
    return json(200, { ticket, expires_in: seconds(auth.tickets.ttlMs) }, { ...cors, ...NO_STORE })
  }

  const logout: Handler = async (request, cors) => {
    const principal = await signedIn(request)
    const body = await jsonBody(request, true)
    const revoked = body.all === true ? await auth.sessions.revokeAll(principal.id) : Number(await auth.sessions.revoke(principal.authSessionId))
    auth.audit.record({ kind: 'logout', outcome: 'ok', userId: principal.id, email: principal.email, detail: `revoked ${revoked} session(s)`, clientAddress: auth.addressOf(request) })
    return json(200, { status: 'signed_out', revoked_sessions: revoked }, cors)
  }

  return new Elysia({ name: 'http:auth' })
    .post('/auth/login', route(login), { parse: 'none', detail: ROUTE_DOCS.login })
    .get('/auth/callback', route(callbackGet), { detail: ROUTE_DOCS.callbackGet })
    .get('/auth/sign-in', route(signInPage), { detail: ROUTE_DOCS.hidden })
    .post('/auth/callback', route(callbackPost), { parse: 'none', detail: ROUTE_DOCS.callbackPost })
    .post('/auth/verify-mfa', route(verifyMfa), { parse: 'none', detail: ROUTE_DOCS.verifyMfa })
    .post('/auth/totp/enroll', route(enrol), { parse: 'none', detail: ROUTE_DOCS.totpEnroll })
    .post('/auth/totp/confirm', route(confirm), { parse: 'none', detail: ROUTE_DOCS.totpConfirm })
    .post('/auth/ws-ticket', route(wsTicket), { parse: 'none', detail: ROUTE_DOCS.wsTicket })
    .post('/auth/logout', route(logout), { parse: 'none', detail: ROUTE_DOCS.logout })
    .options('/auth/*', ({ request }) => guard.preflight(request, 'GET, POST'))
}
