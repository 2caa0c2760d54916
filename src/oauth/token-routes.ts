/**
 * @module oauth/token-routes
 * `/token` (RFC 6749 §3.2: authorization_code and refresh_token grants) and `/revoke` (RFC 7009).
 * Both take form bodies, authenticate the client first, answer JSON that is never cached, and may
 * be called from any origin without credentials (CORS `*`: browser-based clients exist, cookies
 * play no part here). A client that fails authentication gets 401 `invalid_client` (claude.ai
 * registers again on it); a dead code or refresh token is `invalid_grant`, which is what MCP
 * clients recover from by signing in again.
 */
import { Elysia } from 'elysia'
import { NO_STORE, json, oauthError } from '../lib/respond.ts'
import { ROUTE_DOCS } from '../http/route-docs.ts'
import { readBody } from '../transports/http-guard.ts'
import type { OAuthContext } from './context.ts'
import type { Grants } from './grants.ts'

const FORM_LIMIT_BYTES = 16 * 1024
export const OPEN_CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'www-authenticate' }
const PREFLIGHT = { ...OPEN_CORS, 'access-control-allow-methods': 'POST, OPTIONS', 'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version', 'access-control-max-age': '600' }

export function tokenRoutes(ctx: OAuthContext, grants: Grants) {
  const { auth } = ctx
  const refuse = (status: number, error: Parameters<typeof oauthError>[1], description: string, extra: Record<string, string> = {}) =>
    oauthError(status, error, description, { ...OPEN_CORS, pragma: 'no-cache', ...extra })

  /** The form body, or the refusal: only `application/x-www-form-urlencoded` (RFC 6749 §3.2). */
  const readForm = async (request: Request): Promise<URLSearchParams | Response> => {
    const ct = request.headers.get('content-type')?.split(';')[0]?.trim().toLowerCase()
    if (ct !== 'application/x-www-form-urlencoded') return refuse(400, 'invalid_request', 'Send the parameters as application/x-www-form-urlencoded')
    const body = await readBody(request, FORM_LIMIT_BYTES)
    if ('tooLarge' in body) return refuse(413, 'invalid_request', `The body exceeds ${FORM_LIMIT_BYTES} bytes`)
    return new URLSearchParams(body.text)
  }

  const budget = async (request: Request): Promise<Response | undefined> => {
    const retryAfterS = await auth.limiter.take('auth', auth.addressOf(request), auth.limits.authPerAddress)
    return retryAfterS === undefined ? undefined : refuse(429, 'temporarily_unavailable', `Too many requests from this address: try again in ${retryAfterS} s`, { 'retry-after': String(retryAfterS) })
  }

  const token = async ({ request }: { request: Request }): Promise<Response> => {
    const tooMany = await budget(request)
    if (tooMany) return tooMany
    const form = await readForm(request)
    if (form instanceof Response) return form
    const address = auth.addressOf(request)
    const grantType = form.get('grant_type')
    const client = await ctx.clients.authenticate(request, form)
    if (!client.ok) {
      auth.audit.record({ kind: 'oauth_token_refused', outcome: 'denied', detail: `invalid_client: ${client.reason}`, clientAddress: address })
      return refuse(401, 'invalid_client', `Client authentication failed: ${client.reason}`, client.basic ? { 'www-authenticate': 'Basic realm="mcprag"' } : {})
    }
    if (!client.client.grantTypes.includes(grantType ?? '') && grantType === 'refresh_token')
      return refuse(400, 'unauthorized_client', 'This client did not register the refresh_token grant')
    const result =
      grantType === 'authorization_code'
        ? await grants.exchangeCode(client.client, form)
        : grantType === 'refresh_token'
          ? await grants.refresh(client.client, form)
          : undefined
    if (result === undefined) return refuse(400, 'unsupported_grant_type', 'grant_type must be authorization_code or refresh_token')
    if (!result.ok) {
      auth.audit.record({ kind: 'oauth_token_refused', outcome: 'denied', detail: `${grantType}: ${result.error}: ${result.detail ?? result.description}; client ${client.client.clientId}`, clientAddress: address })
      return refuse(400, result.error, result.description)
    }
    auth.audit.record({ kind: grantType === 'authorization_code' ? 'oauth_code_exchanged' : 'oauth_token_refreshed', outcome: 'ok', userId: result.userId, detail: `client ${client.client.clientId}; scope ${result.body.scope}`, clientAddress: address })
    return json(200, result.body, { ...NO_STORE, pragma: 'no-cache', ...OPEN_CORS })
  }

  const revoke = async ({ request }: { request: Request }): Promise<Response> => {
    const tooMany = await budget(request)
    if (tooMany) return tooMany
    const form = await readForm(request)
    if (form instanceof Response) return form
    const client = await ctx.clients.authenticate(request, form)
    if (!client.ok) return refuse(401, 'invalid_client', `Client authentication failed: ${client.reason}`, client.basic ? { 'www-authenticate': 'Basic realm="mcprag"' } : {})
    const value = form.get('token')
    if (!value) return refuse(400, 'invalid_request', 'token is required')
    const grantId = await grants.grantOf(client.client, value)
    if (grantId !== undefined) {
      await grants.revokeGrant(grantId)
      auth.audit.record({ kind: 'oauth_revoked', outcome: 'ok', detail: `client ${client.client.clientId}`, clientAddress: auth.addressOf(request) })
    }
    // RFC 7009 §2.2: an unknown or foreign token is answered like a revoked one.
    return new Response(null, { status: 200, headers: { ...NO_STORE, ...OPEN_CORS } })
  }

  return new Elysia({ name: 'oauth:token' })
    .post('/token', token, { parse: 'none', detail: ROUTE_DOCS.oauth('Token endpoint (RFC 6749)', 'authorization_code (PKCE S256) and refresh_token grants; form-encoded.') })
    .post('/revoke', revoke, { parse: 'none', detail: ROUTE_DOCS.oauth('Revoke a token (RFC 7009)', 'Ends the grant the access or refresh token belongs to.') })
    .options('/token', () => new Response(null, { status: 204, headers: PREFLIGHT }))
    .options('/revoke', () => new Response(null, { status: 204, headers: PREFLIGHT }))
}
