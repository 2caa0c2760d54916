import { expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqliteAuthStore } from '../../src/store/sqlite-auth-store.ts'
import { runAuthStoreContract } from './auth-store.case.ts'

runAuthStoreContract('SqliteAuthStore (:memory:)', () => new SqliteAuthStore(':memory:'))

test('the database file is private (0600) and keeps its data across reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcprag-store-'))
  try {
    const path = join(dir, 'mcprag.db')
    const a = new SqliteAuthStore(path)
    const u = await a.createUser({ email: 'keep@example.com', tier: 'admin', now: 1 })
    await a.putLoginToken({ hash: 'f'.repeat(64), email: 'keep@example.com', expiresAt: 1e15 })
    await a.close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const b = new SqliteAuthStore(path)
    expect(await b.getUserByEmail('keep@example.com')).toEqual(u)
    expect(await b.consumeLoginToken('f'.repeat(64), 2)).toBe('keep@example.com')
    await b.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('ping rejects once the database is closed, so readiness reports it', async () => {
  const store = new SqliteAuthStore(':memory:')
  await store.ping()
  await store.close()
  await expect(store.ping()).rejects.toThrow()
})
