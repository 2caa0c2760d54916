/**
 * @module auth/magic-link
 * One-time login tokens: 32 random bytes (base64url, 256 bits), stored only as their SHA-256, valid
 * for a bounded time, consumed atomically by the store so concurrent uses yield one session.
 */
import type { OneTimeTokenTable } from './stores.ts'
import { OneTimeTokens } from './one-time-tokens.ts'

/** The exact shape of a token this server issues; anything else is refused before a lookup. */
export const LOGIN_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

export class LoginTokens {
  readonly #tokens: OneTimeTokens

  /** `table` is the login-token table only: a WebSocket ticket must never sign anyone in. */
  constructor(table: OneTimeTokenTable, ttlMs: number, now: () => number) {
    this.#tokens = new OneTimeTokens({
      table,
      // Bare base64url: a ticket (`wst_…`) or a JWT (dots) never has this shape.
      prefix: '',
      pattern: LOGIN_TOKEN_PATTERN,
      ttlMs,
      now,
    })
  }

  get ttlMs(): number {
    return this.#tokens.ttlMs
  }

  async issue(email: string): Promise<string> {
    return (await this.#tokens.issue(email)).token
  }

  /** The email the token was issued for, once; undefined for unknown, expired or used tokens. */
  consume(token: unknown): Promise<string | undefined> {
    return this.#tokens.consume(token)
  }
}
