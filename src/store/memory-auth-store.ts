/**
 * @module store/memory-auth-store
 * Single-process auth store, for tests and `MCPRAG_AUTH=off` (nothing to persist). Every method
 * runs to completion without awaiting, so each is atomic within the process.
 */
import type { Tier } from '../core/types.ts'
import {
  normaliseEmail,
  type AuditQuery,
  type AuditRecord,
  type AuthSession,
  type AuthStore,
  type CounterHit,
  type TotpState,
  type User,
  type WsTicket,
} from './auth-store.ts'

/** Audit records kept in memory before the oldest are dropped. */
export const MAX_AUDIT = 10_000

export class MemoryAuthStore implements AuthStore {
  readonly #users = new Map<string, User>()
  readonly #sessions = new Map<string, AuthSession>()
  readonly #tokens = new Map<string, { email: string; expiresAt: number }>()
  readonly #tickets = new Map<string, WsTicket>()
  readonly #totp = new Map<string, TotpState>()
  readonly #counters = new Map<string, CounterHit>()
  /** The newest `MAX_AUDIT` records, as a ring: `#auditId` records were ever appended. */
  readonly #audit: AuditRecord[] = []
  #auditId = 0

  async createUser(u: { email: string; tier: Tier; now: number }): Promise<User> {
    const email = normaliseEmail(u.email)
    if ([...this.#users.values()].some((x) => x.email === email)) throw new Error(`A user with email ${email} already exists`)
    const user: User = { id: crypto.randomUUID(), email, tier: u.tier, createdAt: u.now }
    this.#users.set(user.id, user)
    return { ...user }
  }

  async getUser(id: string): Promise<User | undefined> {
    const u = this.#users.get(id)
    return u && { ...u }
  }

  async getUserByEmail(email: string): Promise<User | undefined> {
    const e = normaliseEmail(email)
    const u = [...this.#users.values()].find((x) => x.email === e)
    return u && { ...u }
  }

  async listUsers(): Promise<User[]> {
    return [...this.#users.values()].sort((a, b) => a.createdAt - b.createdAt || a.email.localeCompare(b.email)).map((u) => ({ ...u }))
  }

  async setUserTier(id: string, tier: Tier): Promise<void> {
    const u = this.#users.get(id)
    if (u) u.tier = tier
  }

  async createSession(s: Omit<AuthSession, 'mfaVerifiedUntil' | 'revokedAt'>): Promise<void> {
    this.#sessions.set(s.id, { ...s })
  }

  async getSession(id: string): Promise<AuthSession | undefined> {
    const s = this.#sessions.get(id)
    return s && { ...s }
  }

  async getSessionWithUser(id: string): Promise<{ session: AuthSession; user?: User } | undefined> {
    const s = this.#sessions.get(id)
    if (!s) return undefined
    const u = this.#users.get(s.userId)
    return u ? { session: { ...s }, user: { ...u } } : { session: { ...s } }
  }

  async setSessionMfa(id: string, until: number): Promise<void> {
    const s = this.#sessions.get(id)
    if (s && s.revokedAt === undefined) s.mfaVerifiedUntil = until
  }

  async revokeSession(id: string, now: number): Promise<boolean> {
    const s = this.#sessions.get(id)
    if (!s || s.revokedAt !== undefined) return false
    s.revokedAt = now
    return true
  }

  async revokeUserSessions(userId: string, now: number): Promise<string[]> {
    const ids: string[] = []
    for (const s of this.#sessions.values()) {
      if (s.userId !== userId || s.revokedAt !== undefined) continue
      s.revokedAt = now
      ids.push(s.id)
    }
    return ids
  }

  async putLoginToken(t: { hash: string; email: string; expiresAt: number }): Promise<void> {
    this.#tokens.set(t.hash, { email: normaliseEmail(t.email), expiresAt: t.expiresAt })
  }

  async consumeLoginToken(hash: string, now: number): Promise<string | undefined> {
    const t = this.#tokens.get(hash)
    if (!t) return undefined
    this.#tokens.delete(hash)
    return t.expiresAt > now ? t.email : undefined
  }

  async putWsTicket(t: WsTicket): Promise<void> {
    this.#tickets.set(t.hash, { ...t })
  }

  async consumeWsTicket(hash: string, now: number): Promise<string | undefined> {
    const t = this.#tickets.get(hash)
    if (!t) return undefined
    this.#tickets.delete(hash)
    return t.expiresAt > now ? t.sessionId : undefined
  }

  async getTotp(userId: string): Promise<TotpState | undefined> {
    const t = this.#totp.get(userId)
    return t && { ...t }
  }

  async putTotp(userId: string, secretBox: string): Promise<void> {
    this.#totp.set(userId, { userId, secretBox, confirmed: false, failures: 0 })
  }

  async confirmTotp(userId: string): Promise<void> {
    const t = this.#totp.get(userId)
    if (t) t.confirmed = true
  }

  async deleteTotp(userId: string): Promise<void> {
    this.#totp.delete(userId)
  }

  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    const t = this.#totp.get(userId)
    if (!t || (t.lastStep !== undefined && t.lastStep >= step)) return false
    t.lastStep = step
    return true
  }

  async recordTotpFailure(userId: string, now: number, maxFailures: number, lockMs: number) {
    const t = this.#totp.get(userId)
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

  async resetTotpFailures(userId: string): Promise<void> {
    const t = this.#totp.get(userId)
    if (!t) return
    t.failures = 0
    t.lockedUntil = undefined
  }

  async hit(key: string, windowMs: number, now: number): Promise<CounterHit> {
    const c = this.#counters.get(key)
    if (!c || c.resetAt <= now) {
      const fresh = { count: 1, resetAt: now + windowMs }
      this.#counters.set(key, fresh)
      return { ...fresh }
    }
    c.count += 1
    return { ...c }
  }

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    // O(1) per record: once full, the oldest slot is overwritten.
    for (const record of records) {
      const id = ++this.#auditId
      this.#audit[(id - 1) % MAX_AUDIT] = { ...record, id }
    }
  }

  async queryAudit(q: AuditQuery): Promise<AuditRecord[]> {
    const out: AuditRecord[] = []
    const oldest = Math.max(1, this.#auditId - MAX_AUDIT + 1)
    for (let id = this.#auditId; id >= oldest && out.length < q.limit; id--) {
      const r = this.#audit[(id - 1) % MAX_AUDIT]!
      if (q.since !== undefined && r.at < q.since) continue
      if (q.until !== undefined && r.at > q.until) continue
      if (q.userId !== undefined && r.userId !== q.userId) continue
      if (q.email !== undefined && r.email !== normaliseEmail(q.email)) continue
      if (q.kind !== undefined && r.kind !== q.kind) continue
      if (q.tool !== undefined && r.tool !== q.tool) continue
      if (q.outcome !== undefined && r.outcome !== q.outcome) continue
      out.push({ ...r })
    }
    return out
  }

  async purgeExpired(now: number): Promise<void> {
    for (const [k, t] of this.#tokens) if (t.expiresAt <= now) this.#tokens.delete(k)
    for (const [k, t] of this.#tickets) if (t.expiresAt <= now) this.#tickets.delete(k)
    for (const [k, s] of this.#sessions) if (s.expiresAt <= now) this.#sessions.delete(k)
    for (const [k, c] of this.#counters) if (c.resetAt <= now) this.#counters.delete(k)
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {}
}
