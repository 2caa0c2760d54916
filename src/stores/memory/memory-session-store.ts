/**
 * @module stores/memory/memory-session-store
 * Single-instance session store: two maps and one sweep timer. It hands out copies, as a network
 * store must, so nothing outside changes a stored session except through `update`.
 */
import type { JsonRpcResponse, RequestId } from '../../core/jsonrpc.ts'
import type { SessionStore } from '../../core/session-store.ts'
import type { SessionState } from '../../core/session.ts'

interface Entry {
  session: SessionState
  expiresAt: number
  /** Made on the first subscribe: most sessions never subscribe, and a Set per session adds up. */
  subscriptions?: Set<string>
  /** Made on the first kept reply (sampling or elicitation answered on another connection). */
  replies?: Map<RequestId, { response: JsonRpcResponse; expiresAt: number }>
}

export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, Entry>()
  readonly #byUri = new Map<string, Set<string>>()
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #sweep: ReturnType<typeof setInterval>

  constructor(opts: { ttlMs: number; now?: () => number; sweepMs?: number }) {
    this.#ttlMs = opts.ttlMs
    this.#now = opts.now ?? Date.now
    this.#sweep = setInterval(() => this.#expire(), opts.sweepMs ?? Math.min(60_000, opts.ttlMs))
    this.#sweep.unref?.()
  }

  async create(session: SessionState): Promise<void> {
    this.#entries.set(session.id, { session: { ...session }, expiresAt: this.#now() + this.#ttlMs })
  }

  async get(id: string, opts?: { touch?: boolean }): Promise<SessionState | undefined> {
    const e = this.#live(id)
    if (!e) return undefined
    if (opts?.touch) e.expiresAt = this.#now() + this.#ttlMs
    return { ...e.session }
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
    for (const uri of e.subscriptions ?? []) this.#unindex(id, uri)
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
    this.#unindex(id, uri)
  }

  async subscribers(uri: string): Promise<string[]> {
    return [...(this.#byUri.get(uri) ?? [])].filter((id) => this.#live(id))
  }

  async putReply(sessionId: string, requestId: RequestId, response: JsonRpcResponse, ttlMs: number): Promise<void> {
    const e = this.#live(sessionId)
    if (e) (e.replies ??= new Map()).set(requestId, { response, expiresAt: this.#now() + ttlMs })
  }

  async takeReply(sessionId: string, requestId: RequestId): Promise<JsonRpcResponse | undefined> {
    const replies = this.#live(sessionId)?.replies
    const kept = replies?.get(requestId)
    if (!kept) return undefined
    replies!.delete(requestId)
    return kept.expiresAt > this.#now() ? kept.response : undefined
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep)
  }

  /** Number of live sessions (tests). */
  get size(): number {
    return this.#entries.size
  }

  #unindex(id: string, uri: string): void {
    const set = this.#byUri.get(uri)
    set?.delete(id)
    if (set?.size === 0) this.#byUri.delete(uri)
  }

  #live(id: string): Entry | undefined {
    const e = this.#entries.get(id)
    if (e && e.expiresAt <= this.#now()) {
      void this.delete(id)
      return undefined
    }
    return e
  }

  #expire(): void {
    const now = this.#now()
    for (const [id, e] of this.#entries) if (e.expiresAt <= now) void this.delete(id)
  }
}
