/**
 * @module stores/memory/memory-auth-stores
 * Single-process identity stores, for tests and `MCPRAG_AUTH=off` (nothing to persist). Every
 * method runs to completion without awaiting, so each is atomic within the process. Answers are
 * copies, as a network store's are.
 */
import type {
  AuditQuery,
  AuditRecord,
  AuditStore,
  AuthSession,
  AuthSessionStore,
  AuthStores,
  CounterHit,
  CounterStore,
  OneTimeTokenKind,
  OneTimeTokenTable,
  TotpState,
  TotpStore,
  User,
  UserStore,
} from '../../auth/stores.ts'
import type { Tier } from '../../core/types.ts'

/** Audit records kept in memory before the oldest are dropped. */
export const MAX_AUDIT = 10_000

class MemoryUsers implements UserStore {
  readonly byId = new Map<string, User>()
  readonly #byEmail = new Map<string, string>()

  async create(u: { email: string; tier: Tier; now: number }): Promise<User> {
    if (this.#byEmail.has(u.email)) throw new Error(`A user with email ${u.email} already exists`)
    const user: User = { id: crypto.randomUUID(), email: u.email, tier: u.tier, createdAt: u.now }
    this.byId.set(user.id, user)
    this.#byEmail.set(user.email, user.id)
    return { ...user }
  }

  async get(id: string): Promise<User | undefined> {
    const u = this.byId.get(id)
    return u && { ...u }
  }

  async getByEmail(email: string): Promise<User | undefined> {
    const id = this.#byEmail.get(email)
    return id === undefined ? undefined : this.get(id)
  }

  async list(page: { limit: number; after?: string }): Promise<{ users: User[]; next?: string }> {
    // Insertion order is creation order; the cursor is the last id of the page before.
    const all = [...this.byId.values()]
    const start = page.after === undefined ? 0 : all.findIndex((u) => u.id === page.after) + 1
    const users = all.slice(start, start + page.limit).map((u) => ({ ...u }))
    const more = start + page.limit < all.length
    return more ? { users, next: users.at(-1)!.id } : { users }
  }

  async setTier(id: string, tier: Tier): Promise<void> {
    const u = this.byId.get(id)
    if (u) u.tier = tier
  }
}

class MemoryAuthSessions implements AuthSessionStore {
  readonly byId = new Map<string, AuthSession>()
  constructor(readonly users: MemoryUsers) {}

  async create(s: Omit<AuthSession, 'mfaVerifiedUntil' | 'revokedAt'>): Promise<void> {
    this.byId.set(s.id, { ...s })
  }

  async get(id: string): Promise<AuthSession | undefined> {
    const s = this.byId.get(id)
    return s && { ...s }
  }

  async getWithUser(id: string): Promise<{ session: AuthSession; user?: User } | undefined> {
    const s = this.byId.get(id)
    if (!s) return undefined
    const u = this.users.byId.get(s.userId)
    return u ? { session: { ...s }, user: { ...u } } : { session: { ...s } }
  }

  async setMfa(id: string, until: number): Promise<void> {
    const s = this.byId.get(id)
    if (s && s.revokedAt === undefined) s.mfaVerifiedUntil = until
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const s = this.byId.get(id)
    if (!s || s.revokedAt !== undefined) return false
    s.revokedAt = now
    return true
  }

  async revokeUser(userId: string, now: number): Promise<string[]> {
    const ids: string[] = []
    for (const s of this.byId.values()) {
      if (s.userId !== userId || s.revokedAt !== undefined) continue
      s.revokedAt = now
      ids.push(s.id)
    }
    return ids
  }
}

class MemoryTotp implements TotpStore {
  readonly #byUser = new Map<string, TotpState>()

  async get(userId: string): Promise<TotpState | undefined> {
    const t = this.#byUser.get(userId)
    if (!t) return undefined
    const copy: TotpState = { ...t, pending: t.pending && { ...t.pending } }
    if (copy.pending === undefined) delete copy.pending
    return copy
  }

  async startEnrolment(userId: string, secretBox: string, authSessionId: string): Promise<void> {
    const t = this.#byUser.get(userId)
    if (t) t.pending = { secretBox, authSessionId }
    else this.#byUser.set(userId, { userId, pending: { secretBox, authSessionId }, failures: 0 })
  }

  async confirmEnrolment(userId: string, authSessionId: string, step: number): Promise<boolean> {
    const t = this.#byUser.get(userId)
    if (!t?.pending || t.pending.authSessionId !== authSessionId) return false
    t.secretBox = t.pending.secretBox
    t.pending = undefined
    t.lastStep = step
    return true
  }

  async delete(userId: string): Promise<void> {
    this.#byUser.delete(userId)
  }

  async claimStep(userId: string, step: number): Promise<boolean> {
    const t = this.#byUser.get(userId)
    if (!t || (t.lastStep !== undefined && t.lastStep >= step)) return false
    t.lastStep = step
    return true
  }

  async recordFailure(userId: string, now: number, maxFailures: number, lockMs: number) {
    const t = this.#byUser.get(userId)
    if (!t) return { failures: 0 }
    // A lock that has run out starts a fresh count.
    if (t.lockedUntil !== undefined && t.lockedUntil <= now) {
      t.failures = 0
      t.lockedUntil = undefined
    }
    t.failures += 1
    if (t.failures >= maxFailures) t.lockedUntil = now + lockMs
    return t.lockedUntil === undefined ? { failures: t.failures } : { failures: t.failures, lockedUntil: t.lockedUntil }
  }

  async resetFailures(userId: string): Promise<void> {
    const t = this.#byUser.get(userId)
    if (!t) return
    t.failures = 0
    t.lockedUntil = undefined
  }
}

class MemoryCounterStore implements CounterStore {
  readonly byKey = new Map<string, CounterHit>()

  async hit(key: string, windowMs: number, now: number, weight: number): Promise<CounterHit> {
    const c = this.byKey.get(key)
    if (!c || c.resetAt <= now) {
      const fresh = { count: weight, resetAt: now + windowMs }
      this.byKey.set(key, fresh)
      return { ...fresh }
    }
    c.count += weight
    return { ...c }
  }
}

class MemoryTokenTable implements OneTimeTokenTable {
  readonly byHash = new Map<string, { value: string; expiresAt: number }>()

  async put(hash: string, value: string, expiresAt: number): Promise<void> {
    this.byHash.set(hash, { value, expiresAt })
  }

  async consume(hash: string, now: number): Promise<string | undefined> {
    const t = this.byHash.get(hash)
    if (!t) return undefined
    this.byHash.delete(hash)
    return t.expiresAt > now ? t.value : undefined
  }
}

class MemoryAudit implements AuditStore {
  /** The newest `MAX_AUDIT` records, as a ring: `#lastId` records were ever appended. */
  readonly #ring: AuditRecord[] = []
  #lastId = 0
  /** Records with a smaller id were purged (or overwritten). */
  #firstId = 1

  async append(records: readonly AuditRecord[]): Promise<void> {
    // O(1) per record: once full, the oldest slot is overwritten.
    for (const record of records) {
      const id = ++this.#lastId
      this.#ring[(id - 1) % MAX_AUDIT] = { ...record, id }
    }
  }

  async query(q: AuditQuery): Promise<AuditRecord[]> {
    const out: AuditRecord[] = []
    const oldest = this.#oldest()
    for (let id = this.#lastId; id >= oldest && out.length < q.limit; id--) {
      const r = this.#ring[(id - 1) % MAX_AUDIT]!
      if (q.since !== undefined && r.at < q.since) continue
      if (q.until !== undefined && r.at > q.until) continue
      if (q.userId !== undefined && r.userId !== q.userId) continue
      if (q.email !== undefined && r.email !== q.email) continue
      if (q.kind !== undefined && r.kind !== q.kind) continue
      if (q.tool !== undefined && r.tool !== q.tool) continue
      if (q.outcome !== undefined && r.outcome !== q.outcome) continue
      out.push({ ...r })
    }
    return out
  }

  async purgeBefore(before: number, limit: number): Promise<number> {
    let n = 0
    for (let id = this.#oldest(); id <= this.#lastId && n < limit && this.#ring[(id - 1) % MAX_AUDIT]!.at < before; id++) n++
    this.#firstId = this.#oldest() + n
    return n
  }

  #oldest(): number {
    return Math.max(this.#firstId, this.#lastId - MAX_AUDIT + 1, 1)
  }
}

export class MemoryAuthStores implements AuthStores {
  readonly users = new MemoryUsers()
  readonly authSessions = new MemoryAuthSessions(this.users)
  readonly totp = new MemoryTotp()
  readonly counters = new MemoryCounterStore()
  readonly audit = new MemoryAudit()
  readonly #tokens = new Map<OneTimeTokenKind, MemoryTokenTable>()

  oneTimeTokens(kind: OneTimeTokenKind): OneTimeTokenTable {
    let table = this.#tokens.get(kind)
    if (!table) this.#tokens.set(kind, (table = new MemoryTokenTable()))
    return table
  }

  async purgeExpired(now: number, limit: number): Promise<number> {
    let n = 0
    const drop = <V>(map: Map<string, V>, expired: (v: V) => boolean) => {
      for (const [k, v] of map) {
        if (n >= limit) return
        if (!expired(v)) continue
        map.delete(k)
        n++
      }
    }
    for (const table of this.#tokens.values()) drop(table.byHash, (t) => t.expiresAt <= now)
    drop(this.authSessions.byId, (s) => s.expiresAt <= now)
    drop(this.counters.byKey, (c) => c.resetAt <= now)
    return n
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
