/**
 * @module stores/memory/memory-session-store
 * Single-instance session store: the sessions, three indexes (by owner, client address and auth
 * session) and one sweep timer. It hands out copies, as a network store must, so nothing outside
 * changes a stored session except through `update`. Every method runs to completion without
 * awaiting, so each is atomic within the process.
 */
import type { JsonRpcResponse, RequestId } from '../../core/jsonrpc.ts'
import type { SessionLimits, SessionStore } from '../../core/session-store.ts'
import type { SessionState } from '../../core/session.ts'

interface Entry {
  session: SessionState
  expiresAt: number
  /** Made on the first subscribe: most sessions never subscribe, and a Set per session adds up. */
  subscriptions?: Set<string>
  /** Made on the first kept reply (sampling or elicitation answered on another connection). */
  replies?: Map<RequestId, { response: JsonRpcResponse; expiresAt: number }>
}

/** Key → ids of the sessions that share it (an owner, an address, an auth session). */
class Index {
  readonly #sets = new Map<string, Set<string>>()

  add(key: string | undefined, id: string): void {
    if (key === undefined) return
    let set = this.#sets.get(key)
    if (!set) this.#sets.set(key, (set = new Set()))
    set.add(id)
  }

  remove(key: string | undefined, id: string): void {
    if (key === undefined) return
    const set = this.#sets.get(key)
    set?.delete(id)
    if (set?.size === 0) this.#sets.delete(key)
  }

  ids(key: string | undefined): string[] {
    return key === undefined ? [] : [...(this.#sets.get(key) ?? [])]
  }

  /** How many ids share `key` (expired ones included until they are forgotten). */
  size(key: string | undefined): number {
    return key === undefined ? 0 : (this.#sets.get(key)?.size ?? 0)
  }
}

export class MemorySessionStore implements SessionStore {
  readonly #entries = new Map<string, Entry>()
  readonly #byUri = new Map<string, Set<string>>()
  readonly #byOwner = new Index()
  readonly #byAddress = new Index()
  readonly #byAuthSession = new Index()
  readonly #ttlMs: number
  readonly #now: () => number
  readonly #sweep: ReturnType<typeof setInterval>

  constructor(opts: { ttlMs: number; now?: () => number; sweepMs?: number }) {
    this.#ttlMs = opts.ttlMs
    this.#now = opts.now ?? Date.now
    this.#sweep = setInterval(() => this.#expire(), opts.sweepMs ?? Math.min(60_000, opts.ttlMs))
    this.#sweep.unref?.()
  }

  async create(session: SessionState, limits?: SessionLimits): Promise<string[]> {
    const evicted: string[] = []
    if (limits) {
      this.#makeRoom(this.#byOwner, session.ownerId, limits.perOwner, evicted)
      this.#makeRoom(this.#byAddress, session.clientAddress, limits.perAddress, evicted)
    }
    this.#entries.set(session.id, { session: { ...session }, expiresAt: this.#now() + this.#ttlMs })
    this.#byOwner.add(session.ownerId, session.id)
    this.#byAddress.add(session.clientAddress, session.id)
    this.#byAuthSession.add(session.authSessionId, session.id)
    return evicted
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
    return this.#forget(id)
  }

  async deleteByAuthSession(authSessionId: string): Promise<string[]> {
    const ids = this.#byAuthSession.ids(authSessionId).filter((id) => this.#live(id))
    for (const id of ids) this.#forget(id)
    return ids
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

  /** Forget the least recently touched sessions of `key` until fewer than `max` are live. */
  #makeRoom(index: Index, key: string | undefined, max: number, evicted: string[]): void {
    // The common case costs one lookup: the group is below its limit, expired members included.
    if (index.size(key) < max) return
    const live = index.ids(key).map((id) => ({ id, e: this.#live(id) })).filter((x): x is { id: string; e: Entry } => x.e !== undefined)
    if (live.length < max) return
    live.sort((a, b) => a.e.expiresAt - b.e.expiresAt)
    for (const { id } of live.slice(0, live.length - max + 1)) {
      this.#forget(id)
      evicted.push(id)
    }
  }

  #forget(id: string): boolean {
    const e = this.#entries.get(id)
    if (!e) return false
    for (const uri of e.subscriptions ?? []) this.#unindex(id, uri)
    this.#byOwner.remove(e.session.ownerId, id)
    this.#byAddress.remove(e.session.clientAddress, id)
    this.#byAuthSession.remove(e.session.authSessionId, id)
    this.#entries.delete(id)
    return true
  }

  #unindex(id: string, uri: string): void {
    const set = this.#byUri.get(uri)
    set?.delete(id)
    if (set?.size === 0) this.#byUri.delete(uri)
  }

  #live(id: string): Entry | undefined {
    const e = this.#entries.get(id)
    if (e && e.expiresAt <= this.#now()) {
      this.#forget(id)
      return undefined
    }
    return e
  }

  #expire(): void {
    const now = this.#now()
    for (const [id, e] of this.#entries) if (e.expiresAt <= now) this.#forget(id)
  }
}
