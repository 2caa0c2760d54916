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
import type { OneTimeTokenTable } from './stores.ts'
import { OneTimeTokens } from './one-time-tokens.ts'

/** Long enough to open a socket right after asking, short enough that a leaked ticket is worthless. */
export const WS_TICKET_TTL_MS = 30_000

/** The exact shape of a ticket this server issues; anything else is refused before a lookup. */
export const WS_TICKET_PATTERN = /^wst_[A-Za-z0-9_-]{43}$/

export class WsTickets {
  readonly #tickets: OneTimeTokens

  /** `table` is the ticket table only, never the login tokens': a ticket must not be redeemable as a sign-in. */
  constructor(table: OneTimeTokenTable, ttlMs: number, now: () => number) {
    this.#tickets = new OneTimeTokens({
      table,
      prefix: 'wst_',
      pattern: WS_TICKET_PATTERN,
      ttlMs,
      now,
    })
  }

  get ttlMs(): number {
    return this.#tickets.ttlMs
  }

  /** A new ticket standing for this auth session. */
  async issue(authSessionId: string): Promise<{ ticket: string; expiresAt: number }> {
    const { token, expiresAt } = await this.#tickets.issue(authSessionId)
    return { ticket: token, expiresAt }
  }

  /** The auth session the ticket was issued from, once; undefined for unknown, expired or used tickets. */
  redeem(ticket: string): Promise<string | undefined> {
    return this.#tickets.consume(ticket)
  }
}
