/**
 * @module auth/bearer
 * Bearer-token authentication for every protected endpoint (MCP transports and REST). The token
 * is read from the `Authorization` header only, never from the URL or a cookie. Each request
 * first spends its client address's request budget. Failures are `AuthError`s; the adapters
 * below turn them into responses with `WWW-Authenticate: Bearer resource_metadata="…"` (plus
 * `error="invalid_token"` when a token was presented), as MCP authorization requires.
 */
import { ErrorCode } from '../core/errors.ts'
import type { Principal } from '../core/types.ts'
import type { Authenticate } from '../transports/authenticate.ts'
import type { AuditLog } from './audit.ts'
import { AuthError, tooManyRequests } from './errors.ts'
import type { Limit, RateLimiter } from './rate-limit.ts'
import type { AuthSessions } from './sessions.ts'

/** RFC 6750 b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i

export interface BearerAuthOptions {
  sessions: AuthSessions
  limiter: RateLimiter
  requestsPerAddress: Limit
  audit: AuditLog
  addressOf: (request: Request) => string
}

export class BearerAuth {
  readonly #o: BearerAuthOptions

  constructor(opts: BearerAuthOptions) {
    this.#o = opts
  }

  /** The caller, or the reason to refuse (401 or 429). */
  async authenticate(request: Request): Promise<Principal | AuthError> {
    const address = this.#o.addressOf(request)
    const retryAfterS = await this.#o.limiter.take('requests', address, this.#o.requestsPerAddress)
    if (retryAfterS !== undefined) return tooManyRequests(retryAfterS, 'requests from this address')
    const header = request.headers.get('authorization')
    if (header === null || header.trim() === '')
      return new AuthError(401, 'invalid_token', 'Authentication required: send Authorization: Bearer <token> (sign in with POST /auth/login)', {
        tokenPresented: false,
      })
    const token = BEARER.exec(header.trim())?.[1]
    const result = token === undefined ? { rejected: 'not a Bearer token' as const } : await this.#o.sessions.resolve(token)
    if ('rejected' in result) {
      this.#o.audit.record({ kind: 'token_rejected', outcome: 'denied', detail: result.rejected, clientAddress: address })
      return new AuthError(401, 'invalid_token', 'The bearer token is invalid, expired or revoked: sign in again with POST /auth/login', {
        tokenPresented: true,
        detail: result.rejected,
      })
    }
    return result
  }
}

/** The `WWW-Authenticate` value for a 401 (RFC 6750 §3, RFC 9728 §5.1). */
export function bearerChallenge(resourceMetadataUrl: string, err: AuthError): string {
  const parts = [`resource_metadata="${resourceMetadataUrl}"`]
  if (err.opts.tokenPresented) parts.push('error="invalid_token"', `error_description="${err.message.replaceAll('"', "'")}"`)
  return `Bearer ${parts.join(', ')}`
}

/** Headers that go with an auth refusal: the challenge on 401, `Retry-After` on 429. */
export function authErrorHeaders(err: AuthError, resourceMetadataUrl: string): Record<string, string> {
  const headers: Record<string, string> = {}
  if (err.status === 401) headers['www-authenticate'] = bearerChallenge(resourceMetadataUrl, err)
  if (err.opts.retryAfterS !== undefined) headers['retry-after'] = String(err.opts.retryAfterS)
  return headers
}

/** The transports' `Authenticate` hook: refusals are JSON-RPC error bodies (no id). */
export function mcpAuthenticate(bearer: BearerAuth, resourceMetadataUrl: () => string, cors: (request: Request) => Record<string, string>): Authenticate {
  return async (request) => {
    const result = await bearer.authenticate(request)
    if (!(result instanceof AuthError)) return result
    const code = result.status === 429 ? ErrorCode.RateLimited : ErrorCode.ConnectionClosed
    return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message: result.message }, id: null }), {
      status: result.status,
      headers: { 'content-type': 'application/json', ...cors(request), ...authErrorHeaders(result, resourceMetadataUrl()) },
    })
  }
}
