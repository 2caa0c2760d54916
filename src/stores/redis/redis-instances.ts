/**
 * @module stores/redis/redis-instances
 * Instance liveness: each instance refreshes a key that expires `ttlMs` after its last beat. A
 * stream whose writer's key is gone has lost its writer (killed, or frozen past the TTL), and any
 * instance may end it. An instance whose subscriber has been disconnected for longer than a beat
 * stops beating: it cannot hear takeovers or cancellations, so it must not look alive.
 */
import type { RedisLink } from './redis-link.ts'

export const HEARTBEAT_TTL_MS = 15_000
const BEAT_EVERY_MS = 5_000
/** A liveness answer stands this long (orphan checks run on keep-alive ticks of many streams). */
const ALIVE_CACHE_MS = 1_000

export class RedisInstances {
  readonly #link: RedisLink
  readonly id: string
  readonly #startedAt = Date.now()
  #timer: ReturnType<typeof setInterval> | undefined
  readonly #alive = new Map<string, { alive: boolean; at: number }>()

  constructor(link: RedisLink, id: string) {
    this.#link = link
    this.id = id
  }

  async start(): Promise<void> {
    await this.#beat()
    this.#timer = setInterval(() => void this.#beat().catch(() => {}), BEAT_EVERY_MS)
    this.#timer.unref?.()
  }

  /** Whether `id`'s heartbeat is current (this instance always is). */
  async isAlive(id: string): Promise<boolean> {
    if (id === this.id) return true
    const now = Date.now()
    const known = this.#alive.get(id)
    if (known && now - known.at < ALIVE_CACHE_MS) return known.alive
    const alive = Number(await this.#link.call(['EXISTS', this.#link.keys.instance(id)])) === 1
    if (this.#alive.size > 1000) this.#alive.clear()
    this.#alive.set(id, { alive, at: now })
    return alive
  }

  /** Stop beating and say goodbye, so what this instance wrote is taken over at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer)
    await this.#link.call(['DEL', this.#link.keys.instance(this.id)]).catch(() => {})
  }

  async #beat(): Promise<void> {
    if (this.#link.subscriberDownForMs > BEAT_EVERY_MS) return
    await this.#link.call(['SET', this.#link.keys.instance(this.id), JSON.stringify({ startedAt: this.#startedAt }), 'PX', String(HEARTBEAT_TTL_MS)])
  }
}
