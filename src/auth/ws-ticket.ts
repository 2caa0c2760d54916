/**
 * @module auth/ws-ticket
 * Single-use WebSocket tickets: the browser route to `/mcp/ws`. A browser (and the SDK 1.x
 * `WebSocketClientTransport`) cannot set `Authorization` on a WebSocket, and a bearer token must
 * not go in a URL (proxies and logs keep URLs). So a signed-in client POSTs `/auth/ws-ticket` with
 * its bearer token and connects to `/mcp/ws?ticket=…` within `WS_TICKET_TTL_MS`.
 *
 * A ticket is 32 random bytes (256 bits) behind a `wst_` prefix, so it is never mistaken for a
 * login token (bare base64url) or a JWT (dots). Only its SHA-256 is stored, with the auth session
 * it was issued from; the first upgrade consumes it atomically, so a ticket found later in a log is
 * already spent. Redeeming yields that auth session, not a copy of its state: revocation, expiry,
 * the user's tier and the session's MFA verification are read from the store then and on every
 * tool call after, exactly as for the bearer token itself.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { AuthStore } from '../store/auth-store.ts'

/** Long enough to open a socket right after asking, short enough that a leaked ticket is worthless. */
export const WS_TICKET_TTL_MS = 30_000

/** The exact shape of a ticket this server issues; anything else is refused before a lookup. */
export const WS_TICKET_PATTERN = /^wst_[A-Za-z0-9_-]{43}$/

const hashTicket = (ticket: string) => createHash('sha256').update(ticket).digest('hex')

export class WsTickets {
  readonly #store: AuthStore
  readonly #ttlMs: number
  readonly #now: () => number

  constructor(store: AuthStore, ttlMs: number, now: () => number) {
    this.#store = store
    this.#ttlMs = ttlMs
    this.#now = now
  }

  get ttlMs(): number {
    return this.#ttlMs
  }

  /** A new ticket standing for this auth session. */
  async issue(authSessionId: string): Promise<{ ticket: string; expiresAt: number }> {
    const ticket = `wst_${randomBytes(32).toString('base64url')}`
    const expiresAt = this.#now() + this.#ttlMs
    await this.#store.putWsTicket({ hash: hashTicket(ticket), sessionId: authSessionId, expiresAt })
    return { ticket, expiresAt }
  }

  /** The auth session the ticket was issued from, once; undefined for unknown, expired or used tickets. */
  async redeem(ticket: string): Promise<string | undefined> {
    if (!WS_TICKET_PATTERN.test(ticket)) return undefined
    return this.#store.consumeWsTicket(hashTicket(ticket), this.#now())
  }
}
