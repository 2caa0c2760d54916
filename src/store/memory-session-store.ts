/**
 * @module store/memory-session-store
 * Single-instance session store: two maps and one sweep timer.
 */
import type { SessionState } from '../core/session.ts'
import type { TransportKind } from '../core/types.ts'
import type { SessionStore } from './session-store.ts'

interface Entry {
  session: SessionState
  expiresAt: number
  /** Made on the first subscribe: most sessions never subscribe, and a Set per session adds up. */
  subscriptions?: Set<string>
}

export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, Entry>()
  readonly #byUri = new Map<string, Set<string>>()
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #sweep: ReturnType<typeof setInterval>
  readonly #onExpire?: (id: string) => void

  /** `onExpire` runs for each session that timed out (not for explicit deletes). */
  constructor(opts: { ttlMs: number; now?: () => number; sweepMs?: number; onExpire?: (id: string) => void }) {
    this.#ttlMs = opts.ttlMs
    this.#now = opts.now ?? Date.now
    this.#onExpire = opts.onExpire
    this.#sweep = setInterval(() => this.#expire(), opts.sweepMs ?? Math.min(60_000, opts.ttlMs))
    this.#sweep.unref?.()
  }

  async create(session: SessionState): Promise<void> {
    this.#entries.set(session.id, { session, expiresAt: this.#now() + this.#ttlMs })
  }

  async get(id: string): Promise<SessionState | undefined> {
    const e = this.#live(id)
    return e?.session
  }

  async update(id: string, patch: Partial<Omit<SessionState, 'id'>>): Promise<void> {
    const e = this.#live(id)
    if (e) e.session = { ...e.session, ...patch }
  }

  async touch(id: string): Promise<void> {
    const e = this.#live(id)
    if (e) e.expiresAt = this.#now() + this.#ttlMs
  }

  async delete(id: string): Promise<boolean> {
    const e = this.#entries.get(id)
    if (!e) return false
    for (const uri of e.subscriptions ?? []) this.#byUri.get(uri)?.delete(id)
    this.#entries.delete(id)
    return true
  }

  async addSubscription(id: string, uri: string): Promise<void> {
    const e = this.#live(id)
    if (!e) return
    ;(e.subscriptions ??= new Set()).add(uri)
    let set = this.#byUri.get(uri)
    if (!set) this.#byUri.set(uri, (set = new Set()))
    set.add(id)
  }

  async removeSubscription(id: string, uri: string): Promise<void> {
    this.#entries.get(id)?.subscriptions?.delete(uri)
    const set = this.#byUri.get(uri)
    set?.delete(id)
    if (set?.size === 0) this.#byUri.delete(uri)
  }

  async subscribers(uri: string): Promise<string[]> {
    return [...(this.#byUri.get(uri) ?? [])].filter((id) => this.#live(id))
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep)
  }

  /** Number of live sessions (for metrics and tests). */
  get size(): number {
    return this.#entries.size
  }

  /** Sessions per transport, counted when asked (a metrics scrape), so sessions cost nothing to track. */
  countByTransport(): Partial<Record<TransportKind, number>> {
    const counts: Partial<Record<TransportKind, number>> = {}
    for (const { session } of this.#entries.values()) counts[session.transport] = (counts[session.transport] ?? 0) + 1
    return counts
  }

  #live(id: string): Entry | undefined {
    const e = this.#entries.get(id)
    if (e && e.expiresAt <= this.#now()) {
      this.#timeout(id)
      return undefined
    }
    return e
  }

  #expire(): void {
    const now = this.#now()
    for (const [id, e] of this.#entries) if (e.expiresAt <= now) this.#timeout(id)
  }

  #timeout(id: string): void {
    void this.delete(id)
    this.#onExpire?.(id)
  }
}
