/**
 * @module auth/rate-limit
 * Fixed-window rate limits on top of the store's counters, so every instance sharing the store
 * shares the budget. `take` counts the attempt and says how long to wait when over the limit.
 */
import type { AuthStore } from '../store/auth-store.ts'

export interface Limit {
  max: number
  windowMs: number
}

/** The budgets the server enforces (config: `MCPRAG_RATE_*`). */
export interface RateLimits {
  /** POST /auth/login per email address. */
  loginPerEmail: Limit
  /** Every /auth/* request per client address. */
  authPerAddress: Limit
  /** Tool calls per user, on every transport. */
  toolCallsPerUser: Limit
  /** Authenticated-endpoint requests (MCP and REST) per client address. */
  requestsPerAddress: Limit
}

export class RateLimiter {
  readonly #store: AuthStore
  readonly #now: () => number

  constructor(store: AuthStore, now: () => number) {
    this.#store = store
    this.#now = now
  }

  /** Count one attempt in `bucket:key`. Returns the seconds to wait when over the limit, else undefined. */
  async take(bucket: string, key: string, limit: Limit): Promise<number | undefined> {
    const now = this.#now()
    const { count, resetAt } = await this.#store.hit(`${bucket}:${key}`, limit.windowMs, now)
    if (count <= limit.max) return undefined
    return Math.max(1, Math.ceil((resetAt - now) / 1000))
  }
}
