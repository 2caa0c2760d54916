/**
 * @module auth/rate-limit
 * Fixed-window rate limits. `take` counts the attempt and says how long to wait when over the
 * limit. A limiter counts either in the auth store (shared by every process using that store,
 * and kept across restarts: the sign-in budgets, which are rare and guard email flooding and
 * guessing) or in this process's memory (`MemoryCounters`: the per-request and per-tool-call
 * budgets, which run on every request and must not cost a database commit each; they count per
 * instance until a shared store exists).
 */
import type { CounterHit } from './stores.ts'

export interface Limit {
  max: number
  windowMs: number
}

/** The budgets the server enforces (config: `MCPRAG_RATE_*`). */
export interface RateLimits {
  /**
   * POST /auth/login per email address *and requesting client address* (past it: 429, to that
   * client only): keyed on the email alone, five anonymous requests locked the real user out.
   */
  loginPerEmail: Limit
  /** Sign-in emails sent to one mailbox, whoever asks (past it: the same answer, and no email). */
  loginPerMailbox: Limit
  /** Every /auth/* request per client address. */
  authPerAddress: Limit
  /** Tool calls per user, on every transport. */
  toolCallsPerUser: Limit
  /** Authenticated-endpoint requests (MCP and REST) per client address. */
  requestsPerAddress: Limit
}

/** Where a limiter counts: the auth store satisfies this, and so does `MemoryCounters`. */
export interface Counters {
  /** Count `weight` hits in `key`'s window, starting a new window when it ended. */
  hit(key: string, windowMs: number, now: number, weight: number): CounterHit | Promise<CounterHit>
}

/** The bucket of the per-address request budget: authentication and the transports spend from it alike. */
export const REQUESTS_BUCKET = 'requests'

/** Keys kept before expired windows are swept out (then twice the live count, at least this). */
const SWEEP_FLOOR = 4096

/**
 * Fixed-window counters in this process's memory. Each hit is a map lookup; windows that ended
 * are swept out whenever the map has doubled since the last sweep, so memory follows the number
 * of keys live in one window (client addresses, users), not the number of requests.
 */
export class MemoryCounters implements Counters {
  readonly #counters = new Map<string, CounterHit>()
  #sweepAt = SWEEP_FLOOR

  hit(key: string, windowMs: number, now: number, weight = 1): CounterHit {
    const c = this.#counters.get(key)
    if (c !== undefined && c.resetAt > now) {
      c.count += weight
      return { count: c.count, resetAt: c.resetAt }
    }
    if (c !== undefined) {
      c.count = weight
      c.resetAt = now + windowMs
      return { count: weight, resetAt: c.resetAt }
    }
    if (this.#counters.size >= this.#sweepAt) this.#sweep(now)
    this.#counters.set(key, { count: weight, resetAt: now + windowMs })
    return { count: weight, resetAt: now + windowMs }
  }

  /** Keys counted (tests). */
  get size(): number {
    return this.#counters.size
  }

  #sweep(now: number): void {
    for (const [k, c] of this.#counters) if (c.resetAt <= now) this.#counters.delete(k)
    this.#sweepAt = Math.max(SWEEP_FLOOR, this.#counters.size * 2)
  }
}

export class RateLimiter {
  readonly #counters: Counters
  readonly #now: () => number

  constructor(counters: Counters, now: () => number) {
    this.#counters = counters
    this.#now = now
  }

  /**
   * Count `weight` attempts in `bucket:key` (a batch of messages counts each). Returns the seconds
   * to wait when over the limit, else undefined.
   */
  async take(bucket: string, key: string, limit: Limit, weight = 1): Promise<number | undefined> {
    const now = this.#now()
    const { count, resetAt } = await this.#counters.hit(`${bucket}:${key}`, limit.windowMs, now, weight)
    if (count <= limit.max) return undefined
    return Math.max(1, Math.ceil((resetAt - now) / 1000))
  }
}
