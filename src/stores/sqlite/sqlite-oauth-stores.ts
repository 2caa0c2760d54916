/**
 * @module stores/sqlite/sqlite-oauth-stores
 * The OAuth stores on `bun:sqlite`. They take an open `Database` (the server shares its
 * `mcprag.db`) and create their own tables. Each atomic method is one SQL statement
 * (`UPDATE … RETURNING`, `DELETE … RETURNING`, `INSERT … ON CONFLICT DO NOTHING`) or, for refresh
 * rotation, one immediate transaction, so concurrent callers on any connection see it whole.
 * Records are JSON in a `value` column beside the columns that statements test.
 */
import type { Database } from 'bun:sqlite'
import {
  USED_CODE_MEMORY_MS,
  type AuthorizationCode,
  type ClientStore,
  type CodeStore,
  type ConsentStore,
  type GithubLinkStore,
  type HandleTable,
  type OAuthClient,
  type OAuthStores,
  type Redemption,
  type RefreshToken,
  type RefreshTokenStore,
  type Rotation,
} from '../../oauth/stores.ts'

const SCHEMA = `
CREATE TABLE IF NOT EXISTS oauth_clients (client_id TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_codes (
  hash TEXT PRIMARY KEY, value TEXT NOT NULL, expires_at INTEGER NOT NULL, used_by TEXT, reused INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS oauth_refresh_tokens (
  hash TEXT PRIMARY KEY, grant_id TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL, used INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS oauth_refresh_tokens_grant ON oauth_refresh_tokens(grant_id);
CREATE TABLE IF NOT EXISTS oauth_consents (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS oauth_handles (kind TEXT NOT NULL, hash TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (kind, hash));
CREATE TABLE IF NOT EXISTS oauth_github_links (github_id INTEGER PRIMARY KEY, user_id TEXT NOT NULL);
`

type Row = Record<string, string | number | null>

class Sql {
  constructor(readonly db: Database) {}
  get(sql: string, ...params: (string | number | null)[]): Row | undefined {
    return (this.db.query(sql).get(...params) as Row | null) ?? undefined
  }
  run(sql: string, ...params: (string | number | null)[]): number {
    return this.db.query(sql).run(...params).changes
  }
}

const parse = <T>(row: Row | undefined): T | undefined => (row ? (JSON.parse(String(row.value)) as T) : undefined)

class SqliteClients implements ClientStore {
  constructor(readonly sql: Sql) {}
  async create(c: OAuthClient): Promise<void> {
    this.sql.run('INSERT INTO oauth_clients (client_id, value, expires_at) VALUES (?, ?, ?)', c.clientId, JSON.stringify(c), c.expiresAt)
  }
  async get(clientId: string, now: number): Promise<OAuthClient | undefined> {
    const c = parse<OAuthClient>(this.sql.get('SELECT value FROM oauth_clients WHERE client_id = ? AND expires_at > ?', clientId, now))
    return c
  }
  async touch(clientId: string, expiresAt: number): Promise<void> {
    this.sql.run(
      "UPDATE oauth_clients SET expires_at = ?2, value = json_set(value, '$.expiresAt', ?2) WHERE client_id = ?1 AND expires_at < ?2",
      clientId,
      expiresAt,
    )
  }
}

class SqliteCodes implements CodeStore {
  constructor(readonly sql: Sql) {}
  async put(hash: string, code: AuthorizationCode): Promise<void> {
    this.sql.run('INSERT INTO oauth_codes (hash, value, expires_at) VALUES (?, ?, ?)', hash, JSON.stringify(code), code.expiresAt)
  }
  async redeem(hash: string, grantId: string, now: number): Promise<Redemption> {
    // Each statement is atomic; whichever runs first for a live code wins, every other call is a reuse.
    const won = this.sql.get('UPDATE oauth_codes SET used_by = ? WHERE hash = ? AND used_by IS NULL AND expires_at > ? RETURNING value', grantId, hash, now)
    if (won) return { code: parse<AuthorizationCode>(won)! }
    const reuse = this.sql.get('UPDATE oauth_codes SET reused = 1 WHERE hash = ? AND used_by IS NOT NULL RETURNING used_by', hash)
    return reuse ? { reusedBy: String(reuse.used_by) } : undefined
  }
  async reused(hash: string): Promise<boolean> {
    return this.sql.get('SELECT reused FROM oauth_codes WHERE hash = ?', hash)?.reused === 1
  }
}

class SqliteRefreshTokens implements RefreshTokenStore {
  readonly #rotate: (oldHash: string, newHash: string, next: RefreshToken, now: number) => Rotation
  constructor(readonly sql: Sql) {
    this.#rotate = sql.db
      .transaction((oldHash: string, newHash: string, next: RefreshToken, now: number): Rotation => {
        if (sql.run('UPDATE oauth_refresh_tokens SET used = 1 WHERE hash = ? AND used = 0 AND expires_at > ?', oldHash, now) === 1) {
          this.#insert(newHash, next)
          return 'rotated'
        }
        return sql.get('SELECT used FROM oauth_refresh_tokens WHERE hash = ? AND expires_at > ?', oldHash, now)?.used === 1 ? 'reused' : 'missing'
      })
      // IMMEDIATE: the write lock is taken before the read, so two connections cannot both see "unused".
      .immediate
  }
  #insert(hash: string, t: RefreshToken): void {
    this.sql.run('INSERT INTO oauth_refresh_tokens (hash, grant_id, value, expires_at) VALUES (?, ?, ?, ?)', hash, t.grantId, JSON.stringify(t), t.expiresAt)
  }
  async put(hash: string, token: RefreshToken): Promise<void> {
    this.#insert(hash, token)
  }
  async get(hash: string, now: number): Promise<{ token: RefreshToken; used: boolean } | undefined> {
    const row = this.sql.get('SELECT value, used FROM oauth_refresh_tokens WHERE hash = ? AND expires_at > ?', hash, now)
    return row ? { token: parse<RefreshToken>(row)!, used: row.used === 1 } : undefined
  }
  async rotate(oldHash: string, newHash: string, next: RefreshToken, now: number): Promise<Rotation> {
    return this.#rotate(oldHash, newHash, next, now)
  }
  async deleteGrant(grantId: string): Promise<void> {
    this.sql.run('DELETE FROM oauth_refresh_tokens WHERE grant_id = ?', grantId)
  }
}

class SqliteConsents implements ConsentStore {
  constructor(readonly sql: Sql) {}
  async remember(key: string, expiresAt: number): Promise<void> {
    this.sql.run('INSERT INTO oauth_consents (key, expires_at) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET expires_at = excluded.expires_at', key, expiresAt)
  }
  async has(key: string, now: number): Promise<boolean> {
    return this.sql.get('SELECT 1 AS x FROM oauth_consents WHERE key = ? AND expires_at > ?', key, now) !== undefined
  }
}

class SqliteHandles<T> implements HandleTable<T> {
  constructor(
    readonly sql: Sql,
    readonly kind: string,
  ) {}
  async put(hash: string, value: T, expiresAt: number): Promise<void> {
    this.sql.run(
      'INSERT INTO oauth_handles (kind, hash, value, expires_at) VALUES (?, ?, ?, ?) ON CONFLICT(kind, hash) DO UPDATE SET value = excluded.value, expires_at = excluded.expires_at',
      this.kind, hash, JSON.stringify(value), expiresAt,
    )
  }
  async get(hash: string, now: number): Promise<T | undefined> {
    return parse<T>(this.sql.get('SELECT value FROM oauth_handles WHERE kind = ? AND hash = ? AND expires_at > ?', this.kind, hash, now))
  }
  async take(hash: string, now: number): Promise<T | undefined> {
    const row = this.sql.get('DELETE FROM oauth_handles WHERE kind = ? AND hash = ? RETURNING value, expires_at', this.kind, hash)
    return row && Number(row.expires_at) > now ? parse<T>(row) : undefined
  }
  async delete(hash: string): Promise<void> {
    this.sql.run('DELETE FROM oauth_handles WHERE kind = ? AND hash = ?', this.kind, hash)
  }
}

class SqliteGithubLinks implements GithubLinkStore {
  constructor(readonly sql: Sql) {}
  async get(githubId: number): Promise<string | undefined> {
    const row = this.sql.get('SELECT user_id FROM oauth_github_links WHERE github_id = ?', githubId)
    return row ? String(row.user_id) : undefined
  }
  async link(githubId: number, userId: string): Promise<string> {
    this.sql.run('INSERT INTO oauth_github_links (github_id, user_id) VALUES (?, ?) ON CONFLICT(github_id) DO NOTHING', githubId, userId)
    return (await this.get(githubId))!
  }
}

/** The OAuth stores over `db` (tables created when missing). */
export function sqliteOAuthStores(db: Database): OAuthStores {
  db.exec(SCHEMA)
  const sql = new Sql(db)
  return {
    clients: new SqliteClients(sql),
    codes: new SqliteCodes(sql),
    refreshTokens: new SqliteRefreshTokens(sql),
    consents: new SqliteConsents(sql),
    pending: new SqliteHandles(sql, 'pending_authorization'),
    browserLogins: new SqliteHandles(sql, 'browser_login'),
    githubStates: new SqliteHandles(sql, 'github_state'),
    githubLinks: new SqliteGithubLinks(sql),
    async purgeExpired(now) {
      sql.run('DELETE FROM oauth_clients WHERE expires_at <= ?', now)
      sql.run('DELETE FROM oauth_codes WHERE expires_at <= ?', now - USED_CODE_MEMORY_MS)
      sql.run('DELETE FROM oauth_refresh_tokens WHERE expires_at <= ?', now)
      sql.run('DELETE FROM oauth_consents WHERE expires_at <= ?', now)
      sql.run('DELETE FROM oauth_handles WHERE expires_at <= ?', now)
    },
  }
}
