/**
 * @module auth/one-time-tokens
 * What login tokens (magic-link.ts) and WebSocket tickets (ws-ticket.ts) have in common: 32 random
 * bytes (base64url, 256 bits) behind a prefix, stored only as their SHA-256 with an expiry, and
 * consumed at most once, atomically, by the store. Each kind keeps its own table: a shared one
 * would let a token of one kind be redeemed as the other (a ticket as a sign-in).
 */
import { createHash, randomBytes } from 'node:crypto'
import type { OneTimeTokenTable } from './stores.ts'

/** The SHA-256 (hex) a token is stored under; the token itself is never stored. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

export interface OneTimeTokensOptions {
  table: OneTimeTokenTable
  /** Put before the random part, so that kinds differ in shape as well as in table. */
  prefix: string
  /** The exact shape of a token this kind issues; anything else is refused before a lookup. */
  pattern: RegExp
  ttlMs: number
  now: () => number
}

/** Issues tokens that each stand for a value (an email, an auth session) until used or expired. */
export class OneTimeTokens {
  readonly #o: OneTimeTokensOptions

  constructor(opts: OneTimeTokensOptions) {
    this.#o = opts
  }

  get ttlMs(): number {
    return this.#o.ttlMs
  }

  /** A new token standing for `value`, and when it expires. */
  async issue(value: string): Promise<{ token: string; expiresAt: number }> {
    const token = `${this.#o.prefix}${randomBytes(32).toString('base64url')}`
    const expiresAt = this.#o.now() + this.#o.ttlMs
    await this.#o.table.put(hashToken(token), value, expiresAt)
    return { token, expiresAt }
  }

  /** The value the token stands for, once; undefined for misshapen, unknown, expired or used tokens. */
  async consume(token: unknown): Promise<string | undefined> {
    if (typeof token !== 'string' || !this.#o.pattern.test(token)) return undefined
    return this.#o.table.consume(hashToken(token), this.#o.now())
  }
}
