/**
 * @module auth/bearer
 * Bearer-token authentication for every protected endpoint (MCP transports and REST). The token
 * is read from the `Authorization` header only, never from the URL or a cookie. The one exception
 * is not a token: the WebSocket upgrade also accepts a single-use ticket in `?ticket=`
 * (auth/ws-ticket.ts), because browsers cannot set headers there. Each request first spends its
 * client address's request budget. Failures are `AuthError`s; the adapters below turn them into
 * responses with `WWW-Authenticate: Bearer resource_metadata="…", scope="mcp:tools"` (plus
 * `error="invalid_token"` when a token was presented), as MCP authorization requires.
 */
import { ErrorCode } from '../core/errors.ts'
import type { Principal } from '../core/types.ts'
import { authChallenge, rpcError } from '../lib/respond.ts'
import { SCOPE_TOOLS } from './resources.ts'
import type { Authenticate } from '../transports/authenticate.ts'
import type { AuditLog } from './audit.ts'
import { AuthError, tooManyRequests } from './errors.ts'
import { REQUESTS_BUCKET, type Limit, type RateLimiter } from './rate-limit.ts'
import type { AuthSessions } from './sessions.ts'
import type { WsTickets } from './ws-ticket.ts'

/** RFC 6750 b64token. */
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*)$/i
/** Three base64url segments: what a JWT pasted where a ticket belongs looks like (audit detail only). */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]*$/

export interface BearerAuthOptions {
  sessions: AuthSessions
  limiter: RateLimiter
  requestsPerAddress: Limit
  audit: AuditLog
  addressOf: (request: Request) => string
  /** Redeems `?ticket=` on WebSocket upgrades. */
  tickets: WsTickets
}

export class BearerAuth {
  readonly #o: BearerAuthOptions

  constructor(opts: BearerAuthOptions) {
    this.#o = opts
  }

  /** The caller, or the reason to refuse (401 or 429). */
  async authenticate(request: Request): Promise<Principal | AuthError> {
    const address = this.#o.addressOf(request)
    const overBudget = await this.#spend(request, address)
    if (overBudget) return overBudget
    return this.#bearer(request, address)
  }

  /** Spend one of the address's request budget; the 429 (audited) when it is exhausted. */
  async #spend(request: Request, address: string): Promise<AuthError | undefined> {
    const retryAfterS = await this.#o.limiter.take(REQUESTS_BUCKET, address, this.#o.requestsPerAddress)
    if (retryAfterS === undefined) return undefined
    this.#o.audit.refusal({ kind: 'rate_limited', outcome: 'denied', detail: `${new URL(request.url).pathname}: requests from this address`, clientAddress: address })
    return tooManyRequests(retryAfterS, 'requests from this address')
  }

  /**
   * The caller of a WebSocket upgrade: a single-use ticket in `?ticket=` (browsers, the SDK 1.x
   * client), or else the `Authorization` header like any request. Only tickets are read from the
   * URL; a bearer token there is refused, never resolved.
   */
  async authenticateUpgrade(request: Request): Promise<Principal | AuthError> {
    const address = this.#o.addressOf(request)
    const overBudget = await this.#spend(request, address)
    if (overBudget) return overBudget
    const tickets = new URL(request.url).searchParams.getAll('ticket')
    if (tickets.length === 0) return this.#bearer(request, address)
    // RFC 6750 §3.1: more than one credential is a malformed request, not a choice to make for the client.
    if (tickets.length > 1 || request.headers.has('authorization'))
      return new AuthError(400, 'invalid_request', 'Send one credential: either Authorization: Bearer <token> or one ?ticket= from POST /auth/ws-ticket, not both')
    const ticket = tickets[0]!
    const sessionId = await this.#o.tickets.redeem(ticket)
    const result = sessionId === undefined ? undefined : await this.#o.sessions.resolveSession(sessionId)
    if (result === undefined || 'rejected' in result) {
      const why = result
        ? `ws ticket of a session that is ${result.rejected}`
        : JWT_SHAPE.test(ticket)
          ? 'a bearer token was sent as ?ticket= (tokens never go in URLs)'
          : 'unknown, expired, used or malformed ws ticket'
      this.#o.audit.refusal({ kind: 'token_rejected', outcome: 'denied', detail: why, clientAddress: address }, why)
      return new AuthError(401, 'invalid_token', `The WebSocket ticket is invalid, expired or already used: get a new one with POST /auth/ws-ticket (single use, valid ${Math.round(this.#o.tickets.ttlMs / 1000)} s)`, {
        tokenPresented: true,
        detail: why,
      })
    }
    return result
  }

  async #bearer(request: Request, address: string): Promise<Principal | AuthError> {
    const header = request.headers.get('authorization')
    if (header === null || header.trim() === '')
      return new AuthError(401, 'invalid_token', 'Authentication required: send Authorization: Bearer <token> (sign in with POST /auth/login)', {
        tokenPresented: false,
      })
    const token = BEARER.exec(header.trim())?.[1]
    const result = token === undefined ? { rejected: 'not a Bearer token' as const } : await this.#o.sessions.resolve(token)
    if ('rejected' in result) {
      this.#o.audit.refusal({ kind: 'token_rejected', outcome: 'denied', detail: result.rejected, clientAddress: address }, result.rejected)
      return new AuthError(401, 'invalid_token', 'The bearer token is invalid, expired or revoked: sign in again with POST /auth/login', {
        tokenPresented: true,
        detail: result.rejected,
      })
    }
    return result
  }
}

/**
 * Headers that go with an auth refusal: on 401 one Bearer challenge pointing at the metadata
 * document of the endpoint that refused, with the baseline scope (`error="invalid_token"` only
 * when a token was presented, RFC 6750 §3.1); `Retry-After` on 429.
 */
export function authErrorHeaders(err: AuthError, resourceMetadata: string): Record<string, string> {
  const headers: Record<string, string> = {}
  if (err.status === 401)
    headers['www-authenticate'] = authChallenge({
      resourceMetadata,
      scope: SCOPE_TOOLS,
      ...(err.opts.tokenPresented ? { error: 'invalid_token', description: err.message } : {}),
    })
  if (err.opts.retryAfterS !== undefined) headers['retry-after'] = String(err.opts.retryAfterS)
  return headers
}

/**
 * The transports' `Authenticate` hook: refusals are JSON-RPC error bodies (no id), whose challenge
 * points at the metadata document of the endpoint asked (`resourceMetadataFor`). With
 * `webSocketTicket` it also accepts a ticket in the URL: give that hook to the WebSocket
 * transport only, so no other endpoint reads credentials from a URL.
 */
export function mcpAuthenticate(
  bearer: BearerAuth,
  resourceMetadataFor: (request: Request) => string,
  cors: (request: Request) => Record<string, string>,
  opts: { webSocketTicket?: boolean } = {},
): Authenticate {
  return async (request) => {
    const result = opts.webSocketTicket ? await bearer.authenticateUpgrade(request) : await bearer.authenticate(request)
    if (!(result instanceof AuthError)) return result
    const code = result.status === 429 ? ErrorCode.RateLimited : ErrorCode.ConnectionClosed
    return rpcError(result.status, code, result.message, { ...cors(request), ...authErrorHeaders(result, resourceMetadataFor(request)) })
  }
}
