import { expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DATA_VERSION_EVERY_MS, SqliteAuthStores } from '../../../src/stores/sqlite/sqlite-auth-stores.ts'
import { runAuthStoresContract } from '../../auth/stores.case.ts'

runAuthStoresContract('SqliteAuthStores (:memory:)', () => new SqliteAuthStores(':memory:'))

test('the database file is private (0600) and keeps its data across reopen', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcprag-store-'))
  try {
    const path = join(dir, 'mcprag.db')
    const a = new SqliteAuthStores(path)
    const u = await a.users.create({ email: 'keep@example.com', tier: 'admin', now: 1 })
    await a.oneTimeTokens('login').put('f'.repeat(64), 'keep@example.com', 1e15)
    await a.close()
    expect(statSync(path).mode & 0o777).toBe(0o600)
    const b = new SqliteAuthStores(path)
    expect(await b.users.getByEmail('keep@example.com')).toEqual(u)
    expect(await b.oneTimeTokens('login').consume('f'.repeat(64), 2)).toBe('keep@example.com')
    await b.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('ping rejects once the database is closed, so readiness reports it', async () => {
  const store = new SqliteAuthStores(':memory:')
  await store.ping()
  await store.close()
  await expect(store.ping()).rejects.toThrow()
})

test('a session read on every request is kept only while no connection changed the database (looked at every few ms)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcprag-store-'))
  try {
    const path = join(dir, 'mcprag.db')
    // The server's store, and the operator CLI's (another connection, another process in real life).
    const server = new SqliteAuthStores(path)
    const cli = new SqliteAuthStores(path)
    const u = await cli.users.create({ email: 'ada@example.com', tier: 'admin', now: 1 })
    await cli.authSessions.create({ id: 's1', userId: u.id, createdAt: 1, expiresAt: 1e15 })
    expect(await server.authSessions.getWithUser('s1')).toEqual({ session: { id: 's1', userId: u.id, createdAt: 1, expiresAt: 1e15 }, user: u })
    // Answers are copies: a caller cannot change what is kept.
    ;(await server.authSessions.getWithUser('s1'))!.session.revokedAt = 5
    expect((await server.authSessions.getWithUser('s1'))!.session.revokedAt).toBeUndefined()

    await cli.users.setTier(u.id, 'user')
    // Another connection's commit counts once the server looks again (at most DATA_VERSION_EVERY_MS later).
    await Bun.sleep(DATA_VERSION_EVERY_MS + 5)
    expect((await server.authSessions.getWithUser('s1'))!.user!.tier).toBe('user')
    expect(await cli.authSessions.revokeUser(u.id, 7)).toEqual(['s1'])
    await Bun.sleep(DATA_VERSION_EVERY_MS + 5)
    expect((await server.authSessions.getWithUser('s1'))!.session.revokedAt).toBe(7)

    // Its own writes too.
    await server.authSessions.create({ id: 's2', userId: u.id, createdAt: 2, expiresAt: 1e15 })
    expect((await server.authSessions.getWithUser('s2'))!.session.mfaVerifiedUntil).toBeUndefined()
    await server.authSessions.setMfa('s2', 99)
    expect((await server.authSessions.getWithUser('s2'))!.session.mfaVerifiedUntil).toBe(99)
    await server.authSessions.revoke('s2', 8)
    expect((await server.authSessions.getWithUser('s2'))!.session.revokedAt).toBe(8)
    await server.users.setTier(u.id, 'public')
    expect((await server.authSessions.getWithUser('s2'))!.user!.tier).toBe('public')

    // Another connection's writes to other tables count as a change as well (nothing stale is kept).
    await cli.oneTimeTokens('login').put('h', 'ada@example.com', 1e15)
    await cli.purgeExpired(1e16, 1000)
    await Bun.sleep(DATA_VERSION_EVERY_MS + 5)
    expect(await server.authSessions.getWithUser('s2')).toBeUndefined()
    expect(await server.authSessions.getWithUser('s1')).toBeUndefined()
    await server.close()
    await cli.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a database from before pending enrolments keeps its confirmed authenticators and drops unconfirmed ones', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcprag-store-'))
  try {
    const path = join(dir, 'mcprag.db')
    const { Database } = await import('bun:sqlite')
    const old = new Database(path, { create: true })
    old.exec(`CREATE TABLE totp (
      user_id TEXT PRIMARY KEY, secret_box TEXT NOT NULL, confirmed INTEGER NOT NULL DEFAULT 0,
      last_step INTEGER, failures INTEGER NOT NULL DEFAULT 0, locked_until INTEGER);
      INSERT INTO totp VALUES ('kept', 'box-kept', 1, 42, 2, 999), ('started', 'box-started', 0, NULL, 1, NULL);`)
    old.close()
    const store = new SqliteAuthStores(path)
    expect(await store.totp.get('kept')).toEqual({ userId: 'kept', secretBox: 'box-kept', lastStep: 42, failures: 2, lockedUntil: 999 })
    expect(await store.totp.get('started')).toEqual({ userId: 'started', failures: 1 })
    await store.totp.startEnrolment('started', 'box-new', 's1')
    expect(await store.totp.confirmEnrolment('started', 's1', 7)).toBe(true)
    await store.close()
    // Opening it again changes nothing.
    const again = new SqliteAuthStores(path)
    expect(await again.totp.get('started')).toEqual({ userId: 'started', secretBox: 'box-new', lastStep: 7, failures: 1 })
    await again.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
