/**
 * @module auth/magic-link
 * One-time login tokens: 32 random bytes (base64url, 256 bits), stored only as their SHA-256, valid
 * for a bounded time, consumed atomically by the store so concurrent uses yield one session.
 */
import { createHash, randomBytes } from 'node:crypto'
import type { AuthStore } from '../store/auth-store.ts'

/** The exact shape of a token this server issues; anything else is refused before a lookup. */
export const LOGIN_TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/

export const hashLoginToken = (token: string) => createHash('sha256').update(token).digest('hex')

export class LoginTokens {
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

  async issue(email: string): Promise<string> {
    const token = randomBytes(32).toString('base64url')
    await this.#store.putLoginToken({ hash: hashLoginToken(token), email, expiresAt: this.#now() + this.#ttlMs })
    return token
  }

  /** The email the token was issued for, once; undefined for unknown, expired or used tokens. */
  async consume(token: unknown): Promise<string | undefined> {
    if (typeof token !== 'string' || !LOGIN_TOKEN_PATTERN.test(token)) return undefined
    return this.#store.consumeLoginToken(hashLoginToken(token), this.#now())
  }
}
