/**
 * @module stores/sqlite/sqlite-auth-stores
 * The identity stores on `bun:sqlite`. Each atomic operation of the interfaces is a single SQL
 * statement (`DELETE … RETURNING`, `UPDATE … WHERE last_step < ?`, an upsert). Audit batches
 * alone are committed with `synchronous = NORMAL`: the WAL is not synced for them (≈ 0.3–1 ms
 * saved per commit), they reach the disk with the next synced commit or checkpoint, and a process
 * crash loses none of them.
 *
 * `authSessions.getWithUser` runs on every authenticated request. What it read is kept (per
 * session id) for as long as the database is unchanged: at most every `DATA_VERSION_EVERY_MS` it
 * asks SQLite's `PRAGMA data_version`, which changes whenever another connection has committed,
 * and the stores forget everything kept then and whenever they write a session or a user
 * themselves. So an answer is what a fresh read would give, a revocation by another process (the
 * operator CLI) counting within `DATA_VERSION_EVERY_MS`.
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
import { SqliteDb, type Row } from './sqlite-db.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY, email TEXT NOT NULL UNIQUE, tier TEXT NOT NULL,
  created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_sessions (
  id TEXT PRIMARY KEY, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  mfa_verified_until INTEGER, revoked_at INTEGER);
CREATE INDEX IF NOT EXISTS auth_sessions_user ON auth_sessions(user_id);
CREATE TABLE IF NOT EXISTS one_time_tokens (
  kind TEXT NOT NULL, hash TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (kind, hash));
CREATE TABLE IF NOT EXISTS totp (
  user_id TEXT PRIMARY KEY, secret_box TEXT, pending_box TEXT, pending_session TEXT,
  last_step INTEGER, failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER);
CREATE TABLE IF NOT EXISTS counters (key TEXT PRIMARY KEY, count INTEGER NOT NULL, reset_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, kind TEXT NOT NULL, outcome TEXT NOT NULL,
  user_id TEXT, email TEXT, tier TEXT, tool TEXT, tool_tier TEXT, transport TEXT, args_digest TEXT,
  latency_ms REAL, detail TEXT, client_address TEXT);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
`

/**
 * Databases made before pending enrolments were kept apart had one secret per user and a
 * `confirmed` flag: the confirmed secrets move over, and unconfirmed ones are dropped (those
 * users start their enrolment again; their failure count and lock are kept).
 */
const MIGRATE_TOTP = `
CREATE TABLE totp_v2 (
  user_id TEXT PRIMARY KEY, secret_box TEXT, pending_box TEXT, pending_session TEXT,
  last_step INTEGER, failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER);
INSERT INTO totp_v2 (user_id, secret_box, last_step, failures, locked_until)
  SELECT user_id, CASE WHEN confirmed = 1 THEN secret_box END, last_step, failures, locked_until FROM totp;
DROP TABLE totp;
ALTER TABLE totp_v2 RENAME TO totp;
`

type SessionWithUser = { session: AuthSession; user?: User }

/** Sessions kept by `getWithUser` before they are all forgotten. */
const KEPT_SESSIONS = 10_000

const copy = (found: SessionWithUser): SessionWithUser => (found.user ? { session: { ...found.session }, user: { ...found.user } } : { session: { ...found.session } })

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

/** How often `getWithUser` asks whether another connection (the operator CLI) wrote. */
export const DATA_VERSION_EVERY_MS = 10

/** What `getWithUser` read, valid while no connection wrote. Writers of sessions or users clear it. */
class KeptSessions {
  readonly map = new Map<string, SessionWithUser>()
  version: number | undefined
  /** `performance.now()` of the last `data_version` look. */
  checkedAt = -Infinity
  clear(): void {
    this.map.clear()
  }
}

class SqliteUsers implements UserStore {
  constructor(
    private readonly sql: SqliteDb,
    private readonly kept: KeptSessions,
  ) {}

  async create(u: { email: string; tier: Tier; now: number }): Promise<User> {
    this.kept.clear()
    const user: User = { id: crypto.randomUUID(), email: u.email, tier: u.tier, createdAt: u.now }
    try {
      this.sql.run('INSERT INTO users (id, email, tier, created_at) VALUES (?, ?, ?, ?)', user.id, user.email, user.tier, user.createdAt)
    } catch (err) {
      if (String(err).includes('UNIQUE')) throw new Error(`A user with email ${user.email} already exists`)
      throw err
    }
    return user
  }

  async get(id: string): Promise<User | undefined> {
    const r = this.sql.get('SELECT * FROM users WHERE id = ?', id)
    return r && toUser(r)
  }

  async getByEmail(email: string): Promise<User | undefined> {
    const r = this.sql.get('SELECT * FROM users WHERE email = ?', email)
    return r && toUser(r)
  }

  async list(page: { limit: number; after?: string }): Promise<{ users: User[]; next?: string }> {
    // Keyset paging on (created_at, id): stable while users are added.
    const after = page.after === undefined ? undefined : this.sql.get('SELECT created_at, id FROM users WHERE id = ?', page.after)
    const rows = after
      ? this.sql.all('SELECT * FROM users WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', after.created_at ?? 0, after.id ?? '', page.limit + 1)
      : this.sql.all('SELECT * FROM users ORDER BY created_at, id LIMIT ?', page.limit + 1)
    const users = rows.slice(0, page.limit).map(toUser)
    return rows.length > page.limit ? { users, next: users.at(-1)!.id } : { users }
  }

  async setTier(id: string, tier: Tier): Promise<void> {
    this.kept.clear()
    this.sql.run('UPDATE users SET tier = ? WHERE id = ?', tier, id)
  }
}

class SqliteAuthSessions implements AuthSessionStore {
  constructor(
    private readonly sql: SqliteDb,
    private readonly kept: KeptSessions,
  ) {}

  async create(s: Omit<AuthSession, 'mfaVerifiedUntil' | 'revokedAt'>): Promise<void> {
    this.kept.clear()
    this.sql.run('INSERT INTO auth_sessions (id, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)', s.id, s.userId, s.createdAt, s.expiresAt)
  }

  async get(id: string): Promise<AuthSession | undefined> {
    const r = this.sql.get('SELECT * FROM auth_sessions WHERE id = ?', id)
    return r && toSession(r)
  }

  async getWithUser(id: string): Promise<SessionWithUser | undefined> {
    // Another connection committed since the last look: forget what was kept. Looked at once per
    // DATA_VERSION_EVERY_MS, not per request: a revocation by the CLI counts within that.
    const now = performance.now()
    if (now - this.kept.checkedAt >= DATA_VERSION_EVERY_MS) {
      this.kept.checkedAt = now
      const version = this.sql.dataVersion()
      if (version !== this.kept.version) {
        this.kept.clear()
        this.kept.version = version
      }
    }
    const kept = this.kept.map.get(id)
    if (kept !== undefined) return copy(kept)
    const found = this.#read(id)
    if (found === undefined) return undefined
    if (this.kept.map.size >= KEPT_SESSIONS) this.kept.clear()
    this.kept.map.set(id, found)
    return copy(found)
  }

  #read(id: string): SessionWithUser | undefined {
    // One statement, so one read transaction (each costs lock syscalls under WAL). Subqueries, not
    // a join: bun:sqlite runs this join ≈ 3× slower than two lookups.
    const r = this.sql.get(
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

  async setMfa(id: string, until: number): Promise<void> {
    this.kept.clear()
    this.sql.run('UPDATE auth_sessions SET mfa_verified_until = ? WHERE id = ? AND revoked_at IS NULL', until, id)
  }

  async revoke(id: string, now: number): Promise<boolean> {
    this.kept.clear()
    return this.sql.run('UPDATE auth_sessions SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', now, id) === 1
  }

  async revokeUser(userId: string, now: number): Promise<string[]> {
    this.kept.clear()
    return this.sql.all('UPDATE auth_sessions SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL RETURNING id', now, userId).map((r) => String(r.id))
  }
}

class SqliteTotp implements TotpStore {
  constructor(private readonly sql: SqliteDb) {}

  async get(userId: string): Promise<TotpState | undefined> {
    const r = this.sql.get('SELECT * FROM totp WHERE user_id = ?', userId)
    if (!r) return undefined
    const t: TotpState = { userId, failures: Number(r.failures) }
    if (r.secret_box !== null) t.secretBox = String(r.secret_box)
    if (r.pending_box !== null) t.pending = { secretBox: String(r.pending_box), authSessionId: String(r.pending_session) }
    if (r.last_step !== null) t.lastStep = Number(r.last_step)
    if (r.locked_until !== null) t.lockedUntil = Number(r.locked_until)
    return t
  }

  async startEnrolment(userId: string, secretBox: string, authSessionId: string): Promise<void> {
    this.sql.run(
      `INSERT INTO totp (user_id, pending_box, pending_session) VALUES (?1, ?2, ?3)
       ON CONFLICT(user_id) DO UPDATE SET pending_box = ?2, pending_session = ?3`,
      userId, secretBox, authSessionId,
    )
  }

  async confirmEnrolment(userId: string, authSessionId: string, step: number): Promise<boolean> {
    return (
      this.sql.run(
        `UPDATE totp SET secret_box = pending_box, pending_box = NULL, pending_session = NULL, last_step = ?3
         WHERE user_id = ?1 AND pending_box IS NOT NULL AND pending_session = ?2`,
        userId, authSessionId, step,
      ) === 1
    )
  }

  async delete(userId: string): Promise<void> {
    this.sql.run('DELETE FROM totp WHERE user_id = ?', userId)
  }

  async claimStep(userId: string, step: number): Promise<boolean> {
    return this.sql.run('UPDATE totp SET last_step = ?1 WHERE user_id = ?2 AND (last_step IS NULL OR last_step < ?1)', step, userId) === 1
  }

  async recordFailure(userId: string, now: number, maxFailures: number, lockMs: number) {
    // Every SET expression reads the row as it was: a lock that ran out restarts the count at 1.
    const r = this.sql.get(
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

  async resetFailures(userId: string): Promise<void> {
    this.sql.run('UPDATE totp SET failures = 0, locked_until = NULL WHERE user_id = ?', userId)
  }
}

class SqliteCounters implements CounterStore {
  constructor(private readonly sql: SqliteDb) {}

  async hit(key: string, windowMs: number, now: number, weight: number): Promise<CounterHit> {
    const r = this.sql.get(
      `INSERT INTO counters (key, count, reset_at) VALUES (?1, ?4, ?2 + ?3)
       ON CONFLICT(key) DO UPDATE SET
         count = CASE WHEN reset_at <= ?2 THEN ?4 ELSE count + ?4 END,
         reset_at = CASE WHEN reset_at <= ?2 THEN ?2 + ?3 ELSE reset_at END
       RETURNING count, reset_at`,
      key, now, windowMs, weight,
    )!
    return { count: Number(r.count), resetAt: Number(r.reset_at) }
  }
}

class SqliteTokenTable implements OneTimeTokenTable {
  constructor(
    private readonly sql: SqliteDb,
    private readonly kind: OneTimeTokenKind,
  ) {}

  async put(hash: string, value: string, expiresAt: number): Promise<void> {
    this.sql.run('INSERT OR REPLACE INTO one_time_tokens (kind, hash, value, expires_at) VALUES (?, ?, ?, ?)', this.kind, hash, value, expiresAt)
  }

  async consume(hash: string, now: number): Promise<string | undefined> {
    const r = this.sql.get('DELETE FROM one_time_tokens WHERE kind = ? AND hash = ? RETURNING value, expires_at', this.kind, hash)
    return r && Number(r.expires_at) > now ? String(r.value) : undefined
  }
}

/** Audit rows inserted per statement: one statement per chunk, not per row (≈ 8 µs saved per row). */
const AUDIT_ROWS_PER_INSERT = 64
const AUDIT_COLUMNS = 13

class SqliteAudit implements AuditStore {
  /** Inserts a batch of records in one transaction. */
  readonly #insert: (records: readonly AuditRecord[]) => void
  /** One prepared statement per row count (1…AUDIT_ROWS_PER_INSERT), made on first use. */
  readonly #statements = new Map<number, ReturnType<SqliteDb['db']['query']>>()

  constructor(private readonly sql: SqliteDb) {
    this.#insert = sql.db.transaction((records: readonly AuditRecord[]) => {
      for (let i = 0; i < records.length; i += AUDIT_ROWS_PER_INSERT) {
        const chunk = records.slice(i, i + AUDIT_ROWS_PER_INSERT)
        const params: (string | number | null)[] = []
        for (const a of chunk)
          params.push(
            a.at, a.kind, a.outcome, a.userId ?? null, a.email ?? null, a.tier ?? null, a.tool ?? null, a.toolTier ?? null,
            a.transport ?? null, a.argsDigest ?? null, a.latencyMs ?? null, a.detail ?? null, a.clientAddress ?? null,
          )
        this.#statement(chunk.length).run(...params)
      }
    })
  }

  #statement(rows: number): ReturnType<SqliteDb['db']['query']> {
    let statement = this.#statements.get(rows)
    if (!statement) {
      const row = `(${Array.from({ length: AUDIT_COLUMNS }, () => '?').join(', ')})`
      statement = this.sql.db.query(
        `INSERT INTO audit (at, kind, outcome, user_id, email, tier, tool, tool_tier, transport, args_digest, latency_ms, detail, client_address)
         VALUES ${Array.from({ length: rows }, () => row).join(', ')}`,
      )
      this.#statements.set(rows, statement)
    }
    return statement
  }

  async append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return
    // Only this transaction skips the sync; FULL is restored even if it fails.
    this.sql.db.exec('PRAGMA synchronous = NORMAL')
    try {
      this.#insert(records)
    } finally {
      this.sql.db.exec('PRAGMA synchronous = FULL')
    }
  }

  async query(q: AuditQuery): Promise<AuditRecord[]> {
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
    add('email = ?', q.email)
    add('kind = ?', q.kind)
    add('tool = ?', q.tool)
    add('outcome = ?', q.outcome)
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`
    return this.sql.all(sql, ...params, q.limit).map(toAudit)
  }

  async purgeBefore(before: number, limit: number): Promise<number> {
    // Through the `at` index, oldest first; rowid subquery: builds without DELETE … LIMIT are the norm.
    return this.sql.run('DELETE FROM audit WHERE rowid IN (SELECT rowid FROM audit WHERE at < ? ORDER BY at LIMIT ?)', before, limit)
  }
}

export class SqliteAuthStores implements AuthStores {
  readonly #sql: SqliteDb
  readonly #kept = new KeptSessions()
  readonly users: SqliteUsers
  readonly authSessions: SqliteAuthSessions
  readonly totp: SqliteTotp
  readonly counters: SqliteCounters
  readonly audit: SqliteAudit
  readonly #tables = new Map<OneTimeTokenKind, SqliteTokenTable>()

  /** `path` is a file (created 0600 when new) or `:memory:`. */
  constructor(path: string) {
    this.#sql = new SqliteDb(path)
    this.#sql.db.exec(SCHEMA)
    if (this.#sql.all('PRAGMA table_info(totp)').some((c) => c.name === 'confirmed')) this.#sql.db.transaction(() => this.#sql.db.exec(MIGRATE_TOTP))()
    this.users = new SqliteUsers(this.#sql, this.#kept)
    this.authSessions = new SqliteAuthSessions(this.#sql, this.#kept)
    this.totp = new SqliteTotp(this.#sql)
    this.counters = new SqliteCounters(this.#sql)
    this.audit = new SqliteAudit(this.#sql)
  }

  /** The database, for other SQLite stores sharing the file. */
  get db(): SqliteDb {
    return this.#sql
  }

  oneTimeTokens(kind: OneTimeTokenKind): OneTimeTokenTable {
    let table = this.#tables.get(kind)
    if (!table) this.#tables.set(kind, (table = new SqliteTokenTable(this.#sql, kind)))
    return table
  }

  async purgeExpired(now: number, limit: number): Promise<number> {
    this.#kept.clear()
    let n = 0
    // rowid subqueries: SQLite builds without DELETE … LIMIT are the norm.
    for (const [table, column] of [['one_time_tokens', 'expires_at'], ['auth_sessions', 'expires_at'], ['counters', 'reset_at']] as const) {
      if (n >= limit) break
      n += this.#sql.run(`DELETE FROM ${table} WHERE rowid IN (SELECT rowid FROM ${table} WHERE ${column} <= ? LIMIT ?)`, now, limit - n)
    }
    return n
  }

  /** The connection's `PRAGMA synchronous` (2 = FULL; tests). */
  get synchronous(): number {
    return Number(this.#sql.get('PRAGMA synchronous')?.synchronous)
  }

  async ping(): Promise<void> {
    // Reads the file (the schema page), so a deleted or unreadable database fails here.
    this.#sql.get('SELECT count(*) AS n FROM sqlite_master')
  }

  async close(): Promise<void> {
    this.#sql.close()
  }
}
