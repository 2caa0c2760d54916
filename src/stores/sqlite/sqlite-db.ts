/**
 * @module stores/sqlite/sqlite-db
 * One `bun:sqlite` database file shared by every SQLite store (`<MCPRAG_DATA_DIR>/mcprag.db`, mode
 * 0600), in WAL mode so the operator CLI can write while the server runs, and `synchronous = FULL`
 * (on disk before a write returns) unless a store says otherwise for one transaction.
 */
import { Database } from 'bun:sqlite'
import { chmodSync } from 'node:fs'

export type Row = Record<string, string | number | null>
type Param = string | number | null

export class SqliteDb {
  readonly db: Database

  /** `path` is a file (created 0600 when new) or `:memory:`. */
  constructor(path: string) {
    this.db = new Database(path, { create: true })
    if (path !== ':memory:') chmodSync(path, 0o600)
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA synchronous = FULL;')
  }

  get(sql: string, ...params: Param[]): Row | undefined {
    return (this.db.query(sql).get(...params) as Row | null) ?? undefined
  }

  all(sql: string, ...params: Param[]): Row[] {
    return this.db.query(sql).all(...params) as Row[]
  }

  /** Runs a statement; returns the number of rows it changed. */
  run(sql: string, ...params: Param[]): number {
    return this.db.query(sql).run(...params).changes
  }

  /** Changes whenever another connection (the CLI, another process) committed. */
  dataVersion(): number {
    return Number(this.get('PRAGMA data_version')!.data_version)
  }

  close(): void {
    this.db.close()
  }
}
