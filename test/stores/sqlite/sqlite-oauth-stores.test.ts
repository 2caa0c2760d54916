import { Database } from 'bun:sqlite'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { sqliteOAuthStores } from '../../../src/stores/sqlite/sqlite-oauth-stores.ts'
import { runOAuthStoresContract } from '../../oauth/oauth-stores.case.ts'

// Two connections to one file: what two processes sharing `mcprag.db` see.
runOAuthStoresContract('sqlite', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcprag-oauth-'))
  const open = () => {
    const db = new Database(join(dir, 'mcprag.db'), { create: true })
    db.exec('PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000;')
    return db
  }
  const [da, db] = [open(), open()]
  return {
    a: sqliteOAuthStores(da),
    b: sqliteOAuthStores(db),
    close() {
      da.close()
      db.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
})
