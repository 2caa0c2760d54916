/**
 * @module oauth/register-routes
 * Dynamic client registration (RFC 7591) at `/register`, and reading a registration back
 * (RFC 7592 §2.1) at its `registration_client_uri` with its registration access token. Public
 * clients (`none`) and confidential ones (`client_secret_post`/`_basic`: claude.ai registers that
 * way) are accepted; the secret is shown once, here. Registrations are rate-limited per address
 * and bodies capped, so a stranger cannot fill the store.
 */
import { Elysia } from 'elysia'
import { json, oauthError, NO_STORE } from '../lib/respond.ts'
import { ROUTE_DOCS } from '../http/route-docs.ts'
import { readBody, isJsonContentType } from '../transports/http-guard.ts'
import { parseClientMetadata } from './client-metadata.ts'
import type { OAuthContext } from './context.ts'
import type { OAuthClient } from './stores.ts'
import { OPEN_CORS } from './token-routes.ts'

export const REGISTER_BODY_LIMIT_BYTES = 16 * 1024
const PREFLIGHT = { ...OPEN_CORS, 'access-control-allow-methods': 'GET, POST, OPTIONS', 'access-control-allow-headers': 'authorization, content-type, mcp-protocol-version', 'access-control-max-age': '600' }

/** The client's metadata as RFC 7591 §3.2.1 returns it. */
function describe(c: OAuthClient, registrationClientUri: string): Record<string, unknown> {
  return {
    client_id: c.clientId,
    client_id_issued_at: Math.floor(c.issuedAt / 1000),
    ...(c.secretHash ? { client_secret_expires_at: 0 } : {}),
    redirect_uris: c.redirectUris,
    token_endpoint_auth_method: c.tokenEndpointAuthMethod,
    grant_types: c.grantTypes,
    response_types: ['code'],
    ...(c.clientName ? { client_name: c.clientName } : {}),
    ...(c.clientUri ? { client_uri: c.clientUri } : {}),
    ...(c.scope ? { scope: c.scope } : {}),
    ...(c.applicationType ? { application_type: c.applicationType } : {}),
    ...(c.softwareId ? { software_id: c.softwareId } : {}),
    ...(c.softwareVersion ? { software_version: c.softwareVersion } : {}),
    registration_client_uri: registrationClientUri,
  }
}

export function registerRoutes(ctx: OAuthContext) {
  const { auth } = ctx
  const refuse = (status: number, error: Parameters<typeof oauthError>[1], description: string, extra: Record<string, string> = {}) =>
    oauthError(status, error, description, { ...OPEN_CORS, ...extra })
  const clientUri = (id: string) => `${ctx.resources.issuer}/register/${encodeURIComponent(id)}`

  const register = async ({ request }: { request: Request }): Promise<Response> => {
    const address = auth.addressOf(request)
    const retryAfterS = await auth.limiter.take('register', address, ctx.settings.registerPerAddress)
    if (retryAfterS !== undefined) {
      auth.audit.record({ kind: 'rate_limited', outcome: 'denied', detail: '/register: registrations from this address', clientAddress: address })
      return refuse(429, 'temporarily_unavailable', `Too many registrations from this address: try again in ${retryAfterS} s`, { 'retry-after': String(retryAfterS) })
    }
    const body = await readBody(request, REGISTER_BODY_LIMIT_BYTES)
    if ('tooLarge' in body) return refuse(413, 'invalid_client_metadata', `The registration exceeds ${REGISTER_BODY_LIMIT_BYTES} bytes`)
    if (!isJsonContentType(request)) return refuse(400, 'invalid_client_metadata', 'Send the client metadata as application/json')
    let parsed: unknown
    try {
      parsed = JSON.parse(body.text)
    } catch {
      return refuse(400, 'invalid_client_metadata', 'The body is not valid JSON')
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return refuse(400, 'invalid_client_metadata', 'The body must be a JSON object')
    const checked = parseClientMetadata(parsed as Record<string, unknown>, { privateSchemes: ctx.settings.redirectSchemes, defaultAuthMethod: 'client_secret_basic' })
    if (!checked.ok) {
      auth.audit.record({ kind: 'oauth_registration_refused', outcome: 'denied', detail: `${checked.error}: ${checked.description}`, clientAddress: address })
      return refuse(400, checked.error, checked.description)
    }
    const { client, secret, registrationToken } = await ctx.clients.register(checked.metadata)
    auth.audit.record({ kind: 'oauth_client_registered', outcome: 'ok', detail: `client ${client.clientId} (${client.clientName ?? 'unnamed'}; ${client.tokenEndpointAuthMethod}; redirects ${client.redirectUris.join(' ')})`, clientAddress: address })
    return json(201, { ...describe(client, clientUri(client.clientId)), ...(secret ? { client_secret: secret } : {}), registration_access_token: registrationToken }, { ...NO_STORE, ...OPEN_CORS })
  }

  const read = async ({ request, params }: { request: Request; params: { id: string } }): Promise<Response> => {
    const m = /^Bearer +(\S+)$/i.exec(request.headers.get('authorization') ?? '')
    const client = m ? await ctx.clients.registered(params.id, m[1]!) : undefined
    if (!client) return refuse(401, 'invalid_client' as const, 'Send the registration access token from the registration response as Authorization: Bearer', { 'www-authenticate': 'Bearer error="invalid_token"' })
    return json(200, describe(client, clientUri(client.clientId)), { ...NO_STORE, ...OPEN_CORS })
  }

  return new Elysia({ name: 'oauth:register' })
    .post('/register', register, { parse: 'none', detail: ROUTE_DOCS.oauth('Register a client (RFC 7591)', 'Dynamic client registration: public (`none`) or confidential (`client_secret_post`, `client_secret_basic`) clients.') })
    .get('/register/:id', read, { detail: ROUTE_DOCS.oauth('Read a registration (RFC 7592)', 'With the registration access token from the registration response.') })
    .options('/register', () => new Response(null, { status: 204, headers: PREFLIGHT }))
}
