/**
 * @module store/sqlite-auth-store
 * The auth store on `bun:sqlite`: one file (`<MCPRAG_DATA_DIR>/mcprag.db`, mode 0600), WAL mode so
 * the operator CLI can write while the server runs. Each atomic operation of the interface is a
 * single SQL statement (`DELETE … RETURNING`, `UPDATE … WHERE last_step < ?`, an upsert), committed
 * with `synchronous = FULL` (on disk before it returns). Audit batches alone are committed with
 * `synchronous = NORMAL`: the WAL is not synced for them (≈ 0.3–1 ms saved per commit), they reach
 * the disk with the next synced commit or checkpoint, and a process crash loses none of them.
 *
 * `getSessionWithUser` runs on every authenticated request. What it read is kept (per session id)
 * for as long as the database is unchanged: each call first asks SQLite's `PRAGMA data_version`,
 * which changes whenever another connection (the operator CLI, another process) has committed,
 * and this store forgets everything it kept then and whenever it writes a session or a user
 * itself. So an answer is always what a fresh read would give, revocation by any writer included.
 */
import { Database } from 'bun:sqlite'
import { chmodSync } from 'node:fs'
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

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, tier TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_sessions (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  mfa_verified_until INTEGER, revoked_at INTEGER);
CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions(user_id);
CREATE TABLE IF NOT EXISTS login_tokens (hash TEXT PRIMARY KEY, email TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ws_tickets (hash TEXT PRIMARY KEY, session_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS totp (
  user_id TEXT PRIMARY KEY, secret_box TEXT NOT NULL, confirmed INTEGER NOT NULL DEFAULT 0,
  last_step INTEGER, failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL,
  user_id TEXT, email TEXT, tier TEXT, tool TEXT, tool_tier TEXT, transport TEXT, args_digest TEXT,
  latency_ms REAL, detail TEXT, client_address TEXT);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
`

type Row = Record<string, string | number | null>

type SessionWithUser = { session: AuthSession; user?: User }

/** Sessions kept by `getSessionWithUser` before they are all forgotten. */
const KEPT_SESSIONS = 10_000

const copy = (found: SessionWithUser): SessionWithUser => (found.user ? { session: { ...found.session }, user: { ...found.user } } : { session: { ...found.session } })

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v)

function toUser(r: Row): User {
  return { id: String(r.id), email: String(r.email), tier: r.tier as Tier, createdAt: Number(r.created_at) }
}

function toSession(r: Row): AuthSession {
  const s: AuthSession = { id: String(r.id), userId: String(r.user_id), createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) }
  if (r.mfa_verified_until !== null) s.mfaVerifiedUntil = Number(r.mfa_verified_until)
  if (r.revoked_at !== null) s.revokedAt = Number(r.revoked_at)
  return s
}

function toAudit(r: Row): AuditRecord {
  const out: AuditRecord = { id: Number(r.id), at: Number(r.at), kind: String(r.kind), outcome: String(r.outcome) }
  const fields: [keyof AuditRecord, string][] = [
    ['userId', 'user_id'], ['email', 'email'], ['tier', 'tier'], ['tool', 'tool'], ['toolTier', 'tool_tier'],
    ['transport', 'transport'], ['argsDigest', 'args_digest'], ['detail', 'detail'], ['clientAddress', 'client_address'],
  ]
  for (const [k, col] of fields) if (r[col] !== null && r[col] !== undefined) (out as unknown as Record<string, unknown>)[k] = String(r[col])
  if (r.latency_ms !== null) out.latencyMs = Number(r.latency_ms)
  return out
}

export class SqliteAuthStore implements AuthStore {
  readonly #db: Database
  /** Inserts a batch of audit records in one transaction. */
  readonly #appendAudit: (records: readonly AuditRecord[]) => void
  /** What `getSessionWithUser` read, valid while `#dataVersion` says no other connection wrote. */
  readonly #kept = new Map<string, SessionWithUser>()
  #keptVersion: number | undefined

  /** `path` is a file (created 0600 when new) or `:memory:`. */
  constructor(path: string) {
    this.#db = new Database(path, { create: true })
    if (path !== ':memory:') chmodSync(path, 0o600)
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;')
    this.#db.exec(SCHEMA)
    const insert = this.#db.query(
      `INSERT INTO audit (at, kind, outcome, user_id, email, tier, tool, tool_tier, transport, args_digest, latency_ms, detail, client_address)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    this.#appendAudit = this.#db.transaction((records: readonly AuditRecord[]) => {
      for (const a of records)
        insert.run(
          a.at, a.kind, a.outcome, a.userId ?? null, a.email ?? null, a.tier ?? null, a.tool ?? null, a.toolTier ?? null,
          a.transport ?? null, a.argsDigest ?? null, a.latencyMs ?? null, a.detail ?? null, a.clientAddress ?? null,
        )
    })
  }

  #get(sql: string, ...params: (string | number | null)[]): Row | undefined {
    return (this.#db.query(sql).get(...params) as Row | null) ?? undefined
  }

  #all(sql: string, ...params: (string | number | null)[]): Row[] {
    return this.#db.query(sql).all(...params) as Row[]
  }

  #run(sql: string, ...params: (string | number | null)[]): number {
    return this.#db.query(sql).run(...params).changes
  }

  /** This connection wrote sessions or users: what was kept may be stale. */
  #changed(): void {
    this.#kept.clear()
  }

  async createUser(u: { email: string; tier: Tier; now: number }): Promise<User> {
    this.#changed()
    const user: User = { id: crypto.randomUUID(), email: normaliseEmail(u.email), tier: u.tier, createdAt: u.now }
    try {
      this.#run('INSERT INTO users (id, email, tier, created_at) VALUES (?, ?, ?, ?)', user.id, user.email, user.tier, user.createdAt)
    } catch (err) {
      if (String(err).includes('UNIQUE')) throw new Error(`A user with email ${user.email} already exists`)
      throw err
    }
    return user
  }

  async getUser(id: string): Promise<User | undefined> {
    const r = this.#get('SELECT * FROM users WHERE id = ?', id)
    return r && toUser(r)
  }

  async getUserByEmail(email: string): Promise<User | undefined> {
    const r = this.#get('SELECT * FROM users WHERE email = ?', normaliseEmail(email))
    return r && toUser(r)
  }

  async listUsers(): Promise<User[]> {
    return this.#all('SELECT * FROM users ORDER BY created_at, email').map(toUser)
  }

  async setUserTier(id: string, tier: Tier): Promise<void> {
    this.#changed()
    this.#run('UPDATE users SET tier = ? WHERE id = ?', tier, id)
  }

  async createSession(s: Omit<AuthSession, 'mfaVerifiedUntil' | 'revokedAt'>): Promise<void> {
    this.#changed()
    this.#run('INSERT INTO auth_sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)', s.id, s.userId, s.createdAt, s.expiresAt)
  }

  async getSession(id: string): Promise<AuthSession | undefined> {
    const r = this.#get('SELECT * FROM auth_sessions WHERE id = ?', id)
    return r && toSession(r)
  }

  async getSessionWithUser(id: string): Promise<SessionWithUser | undefined> {
    // Another connection committed since the last call: forget what was kept.
    const version = Number(this.#get('PRAGMA data_version')!.data_version)
    if (version !== this.#keptVersion) {
      this.#kept.clear()
      this.#keptVersion = version
    }
    const kept = this.#kept.get(id)
    if (kept !== undefined) return copy(kept)
    const found = this.#readSessionWithUser(id)
    if (found === undefined) return undefined
    if (this.#kept.size >= KEPT_SESSIONS) this.#kept.clear()
    this.#kept.set(id, found)
    return copy(found)
  }

  #readSessionWithUser(id: string): SessionWithUser | undefined {
    // One statement, so one read transaction (each costs lock syscalls under WAL). Subqueries, not
    // a join: bun:sqlite runs this join ≈ 3× slower than two lookups.
    const r = this.#get(
      `SELECT s.*,
         (SELECT email FROM users WHERE id = s.user_id) AS user_email,
         (SELECT tier FROM users WHERE id = s.user_id) AS user_tier,
         (SELECT created_at FROM users WHERE id = s.user_id) AS user_created_at
       FROM auth_sessions s WHERE s.id = ?`,
      id,
    )
    if (!r) return undefined
    const session = toSession(r)
    if (r.user_tier === null) return { session }
    return { session, user: { id: session.userId, email: String(r.user_email), tier: r.user_tier as Tier, createdAt: Number(r.user_created_at) } }
  }

  async setSessionMfa(id: string, until: number): Promise<void> {
    this.#changed()
    this.#run('UPDATE auth_sessions SET mfa_verified_until = ? WHERE id = ? AND revoked_at IS NULL', until, id)
  }

  async revokeSession(id: string, now: number): Promise<boolean> {
    this.#changed()
    return this.#run('UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', now, id) === 1
  }

  async revokeUserSessions(userId: string, now: number): Promise<string[]> {
    this.#changed()
    return this.#all('UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING id', now, userId).map((r) =>
      String(r.id),
    )
  }

  async putLoginToken(t: { hash: string; email: string; expiresAt: number }): Promise<void> {
    this.#run('INSERT OR REPLACE INTO login_tokens (hash, email, expires_at) VALUES (?, ?, ?)', t.hash, normaliseEmail(t.email), t.expiresAt)
  }

  async consumeLoginToken(hash: string, now: number): Promise<string | undefined> {
    const r = this.#get('DELETE FROM login_tokens WHERE hash = ? RETURNING email, expires_at', hash)
    return r && Number(r.expires_at) > now ? String(r.email) : undefined
  }

  async putWsTicket(t: WsTicket): Promise<void> {
    this.#run('INSERT OR REPLACE INTO ws_tickets (hash, session_id, expires_at) VALUES (?, ?, ?)', t.hash, t.sessionId, t.expiresAt)
  }

  async consumeWsTicket(hash: string, now: number): Promise<string | undefined> {
    const r = this.#get('DELETE FROM ws_tickets WHERE hash = ? RETURNING session_id, expires_at', hash)
    return r && Number(r.expires_at) > now ? String(r.session_id) : undefined
  }

  async getTotp(userId: string): Promise<TotpState | undefined> {
    const r = this.#get('SELECT * FROM totp WHERE user_id = ?', userId)
    if (!r) return undefined
    const t: TotpState = { userId, secretBox: String(r.secret_box), confirmed: r.confirmed === 1, failures: Number(r.failures) }
    const lastStep = opt(r.last_step)
    const lockedUntil = opt(r.locked_until)
    if (lastStep !== undefined) t.lastStep = Number(lastStep)
    if (lockedUntil !== undefined) t.lockedUntil = Number(lockedUntil)
    return t
  }

  async putTotp(userId: string, secretBox: string): Promise<void> {
    this.#run('INSERT OR REPLACE INTO totp (user_id, secret_box, confirmed, failures) VALUES (?, ?, 0, 0)', userId, secretBox)
  }

  async confirmTotp(userId: string): Promise<void> {
    this.#run('UPDATE totp SET confirmed = 1 WHERE user_id = ?', userId)
  }

  async deleteTotp(userId: string): Promise<void> {
    this.#run('DELETE FROM totp WHERE user_id = ?', userId)
  }

  async claimTotpStep(userId: string, step: number): Promise<boolean> {
    return this.#run('UPDATE totp SET last_step = ?1 WHERE user_id = ?2 AND (last_step IS NULL OR last_step < ?1)', step, userId) === 1
  }

  async recordTotpFailure(userId: string, now: number, maxFailures: number, lockMs: number) {
    // Every SET expression reads the row as it was: a lock that ran out restarts the count at 1.
    const r = this.#get(
      `UPDATE totp SET
         failures = CASE WHEN locked_until IS NOT NULL AND locked_until <= ?1 THEN 1 ELSE failures + 1 END,
         locked_until = CASE
           WHEN locked_until IS NOT NULL AND locked_until <= ?1 THEN CASE WHEN 1 >= ?2 THEN ?1 + ?3 ELSE NULL END
           WHEN failures + 1 >= ?2 THEN ?1 + ?3
           ELSE locked_until END
       WHERE user_id = ?4 RETURNING failures, locked_until`,
      now, maxFailures, lockMs, userId,
    )
    if (!r) return { failures: 0 }
    return r.locked_until === null ? { failures: Number(r.failures) } : { failures: Number(r.failures), lockedUntil: Number(r.locked_until) }
  }

  async resetTotpFailures(userId: string): Promise<void> {
    this.#run('UPDATE totp SET failures = 0, locked_until = NULL WHERE user_id = ?', userId)
  }

  async hit(key: string, windowMs: number, now: number): Promise<CounterHit> {
    const r = this.#get(
      `INSERT INTO counters (key, count, reset_at) VALUES (?1, 1, ?2 + ?3)
       ON CONFLICT(key) DO UPDATE SET
         count = CASE WHEN reset_at <= ?2 THEN 1 ELSE count + 1 END,
         reset_at = CASE WHEN reset_at <= ?2 THEN ?2 + ?3 ELSE reset_at END
       RETURNING count, reset_at`,
      key, now, windowMs,
    )!
    return { count: Number(r.count), resetAt: Number(r.reset_at) }
  }

  async appendAudit(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return
    // Only this transaction skips the sync; FULL is restored even if it fails.
    this.#db.exec('PRAGMA synchronous = NORMAL')
    try {
      this.#appendAudit(records)
    } finally {
      this.#db.exec('PRAGMA synchronous = FULL')
    }
  }

  async queryAudit(q: AuditQuery): Promise<AuditRecord[]> {
    const where: string[] = []
    const params: (string | number)[] = []
    const add = (sql: string, v: string | number | undefined) => {
      if (v === undefined) return
      where.push(sql)
      params.push(v)
    }
    add('at >= ?', q.since)
    add('at <= ?', q.until)
    add('user_id = ?', q.userId)
    add('email = ?', q.email === undefined ? undefined : normaliseEmail(q.email))
    add('kind = ?', q.kind)
    add('tool = ?', q.tool)
    add('outcome = ?', q.outcome)
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
    return this.#all(sql, ...params, q.limit).map(toAudit)
  }

  async purgeExpired(now: number): Promise<void> {
    this.#changed()
    this.#run('DELETE FROM login_tokens WHERE expires_at <= ?', now)
    this.#run('DELETE FROM ws_tickets WHERE expires_at <= ?', now)
    this.#run('DELETE FROM auth_sessions WHERE expires_at <= ?', now)
    this.#run('DELETE FROM counters WHERE reset_at <= ?', now)
  }

  /** The connection's `PRAGMA synchronous` (2 = FULL; tests). */
  get synchronous(): number {
    return Number(this.#get('PRAGMA synchronous')?.synchronous)
  }

  async ping(): Promise<void> {
    // Reads the file (the schema page), so a deleted or unreadable database fails here.
    this.#get('SELECT count(*) AS n FROM sqlite_master')
  }

  async close(): Promise<void> {
    this.#db.close()
  }
}
