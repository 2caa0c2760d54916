/**
 * @module stores/redis/redis-approx-counters
 * Rate-limit counters for budgets spent on every request (requests per address, tool calls per
 * user): counted in this process and added to the shared Redis counter every `flushMs`, so a
 * request costs no round trip. Across instances a budget is exact to within what every instance
 * counted since its last flush (at most slightly over, never under); while Redis is away each
 * instance keeps counting alone and sends its count once Redis is back.
 */
import type { Counters } from '../../auth/rate-limit.ts'
import type { CounterHit } from '../../auth/stores.ts'
import type { RedisCounters } from './redis-auth-stores.ts'

interface Entry {
  windowMs: number
  resetAt: number
  /** The shared count as Redis last said it (this instance's flushed hits included). */
  shared: number
  /** Hits counted here and not yet added to Redis. */
  pending: number
}

export class RedisApproxCounters implements Counters {
  readonly #counters: RedisCounters
  readonly #entries = new Map<string, Entry>()
  readonly #timer: ReturnType<typeof setInterval>
  #flushing = false

  constructor(counters: RedisCounters, flushMs = 250) {
    this.#counters = counters
    this.#timer = setInterval(() => void this.flush(), flushMs)
    this.#timer.unref?.()
  }

  hit(key: string, windowMs: number, now: number, weight = 1): CounterHit {
    let e = this.#entries.get(key)
    if (e === undefined || e.resetAt <= now) {
      // A window that ended here may still run in Redis a moment longer: the next flush says so.
      e = { windowMs, resetAt: now + windowMs, shared: 0, pending: e && e.resetAt <= now ? 0 : (e?.pending ?? 0) }
      this.#entries.set(key, e)
    }
    e.pending += weight
    return { count: e.shared + e.pending, resetAt: e.resetAt }
  }

  /** Add what was counted here to Redis, and learn the shared counts. */
  async flush(): Promise<void> {
    if (this.#flushing) return
    this.#flushing = true
    try {
      const now = Date.now()
      for (const [key, e] of [...this.#entries]) {
        if (e.pending === 0) {
          if (e.resetAt <= now) this.#entries.delete(key)
          continue
        }
        const n = e.pending
        try {
          const shared = await this.#counters.add(key, n, e.windowMs, now)
          e.pending -= n
          e.shared = shared.count
          e.resetAt = shared.resetAt
        } catch {
          // Redis is away: keep counting here; the next flush adds it all.
          return
        }
      }
    } finally {
      this.#flushing = false
    }
  }

  close(): void {
    clearInterval(this.#timer)
  }
}
