/**
 * @module transports/revocation-watcher
 * Closes the open streams of an auth session that was revoked (logout) or has ended. Transports
 * `track` each long-lived connection with the principal that opened it; a revocation published on
 * the bus (from any instance) closes them at once, and a periodic sweep catches sessions that
 * expired or were revoked by another process (the operator CLI) without a bus event.
 */
import type { Bus, Unsubscribe } from '../core/bus.ts'
import { AUTH_REVOKED } from '../core/topics.ts'
import type { Principal } from '../core/types.ts'

export interface RevocationWatcherOptions {
  bus: Bus
  /** Whether an auth session may still be used; absent when auth is off (nothing to sweep). */
  isActive?: (authSessionId: string) => Promise<boolean>
  /**
   * Also told of every revocation it learns of, announced on the bus or found by the sweep (auth
   * drops what it read before it; the core ends the MCP sessions opened under it).
   */
  onRevoked?: (authSessionId: string) => void
  sweepMs?: number
}

export class RevocationWatcher {
  readonly #o: RevocationWatcherOptions
  /** Auth session id → close functions of the connections it holds here. */
  readonly #open = new Map<string, Set<() => void>>()
  #unsubscribe: Unsubscribe = () => {}
  #sweep: ReturnType<typeof setInterval> | undefined

  constructor(opts: RevocationWatcherOptions) {
    this.#o = opts
  }

  /** Tell every instance that these auth sessions were revoked. */
  static publish(bus: Bus, authSessionIds: string[]): void {
    for (const authSessionId of authSessionIds)
      bus.publish(AUTH_REVOKED, { authSessionId }).catch((err) => console.error('[auth] could not publish a revocation:', err))
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#o.bus.subscribe(AUTH_REVOKED, ({ authSessionId: id }) => {
      if (typeof id === 'string') this.#revoked(id)
    })
    const isActive = this.#o.isActive
    if (isActive) {
      this.#sweep = setInterval(() => {
        for (const id of [...this.#open.keys()])
          isActive(id).then((ok) => ok || this.#revoked(id), (err) => console.error('[auth] session check failed:', err))
      }, this.#o.sweepMs ?? 30_000)
      this.#sweep.unref?.()
    }
  }

  close(): void {
    this.#unsubscribe()
    clearInterval(this.#sweep)
  }

  /** Register an open connection; returns the function to call when it closes by itself. */
  track(principal: Principal, close: () => void): () => void {
    const id = principal.authSessionId
    if (id === undefined) return NOOP
    let set = this.#open.get(id)
    if (!set) this.#open.set(id, (set = new Set()))
    set.add(close)
    return () => {
      const s = this.#open.get(id)
      s?.delete(close)
      if (s?.size === 0) this.#open.delete(id)
    }
  }

  /** Number of auth sessions with open connections here (tests). */
  get trackedSessions(): number {
    return this.#open.size
  }

  #revoked(authSessionId: string): void {
    this.#o.onRevoked?.(authSessionId)
    this.#closeAll(authSessionId)
  }

  #closeAll(authSessionId: string): void {
    const set = this.#open.get(authSessionId)
    if (!set) return
    this.#open.delete(authSessionId)
    for (const close of set) {
      try {
        close()
      } catch (err) {
        console.error('[auth] closing a revoked connection failed:', err)
      }
    }
  }
}

/** Shared: connections of principals without an auth session (auth off) have nothing to untrack. */
const NOOP = () => {}
