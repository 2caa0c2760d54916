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

test('a session read on every request is kept only while no connection changed the database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mcprag-store-'))
  try {
    const path = join(dir, 'mcprag.db')
    // The server's store, and the operator CLI's (another connection, another process in real life).
    const server = new SqliteAuthStore(path)
    const cli = new SqliteAuthStore(path)
    const u = await cli.createUser({ email: 'ada@example.com', tier: 'admin', now: 1 })
    await cli.createSession({ id: 's1', userId: u.id, createdAt: 1, expiresAt: 1e15 })
    expect(await server.getSessionWithUser('s1')).toEqual({ session: { id: 's1', userId: u.id, createdAt: 1, expiresAt: 1e15 }, user: u })
    // Answers are copies: a caller cannot change what is kept.
    ;(await server.getSessionWithUser('s1'))!.session.revokedAt = 5
    expect((await server.getSessionWithUser('s1'))!.session.revokedAt).toBeUndefined()

    await cli.setUserTier(u.id, 'user')
    expect((await server.getSessionWithUser('s1'))!.user!.tier).toBe('user')
    expect(await cli.revokeUserSessions(u.id, 7)).toEqual(['s1'])
    expect((await server.getSessionWithUser('s1'))!.session.revokedAt).toBe(7)

    // Its own writes too.
    await server.createSession({ id: 's2', userId: u.id, createdAt: 2, expiresAt: 1e15 })
    expect((await server.getSessionWithUser('s2'))!.session.mfaVerifiedUntil).toBeUndefined()
    await server.setSessionMfa('s2', 99)
    expect((await server.getSessionWithUser('s2'))!.session.mfaVerifiedUntil).toBe(99)
    await server.revokeSession('s2', 8)
    expect((await server.getSessionWithUser('s2'))!.session.revokedAt).toBe(8)
    await server.setUserTier(u.id, 'public')
    expect((await server.getSessionWithUser('s2'))!.user!.tier).toBe('public')

    // Another connection's writes to other tables count as a change as well (nothing stale is kept).
    await cli.putLoginToken({ hash: 'h', email: 'ada@example.com', expiresAt: 1e15 })
    await cli.purgeExpired(1e16)
    expect(await server.getSessionWithUser('s2')).toBeUndefined()
    expect(await server.getSessionWithUser('s1')).toBeUndefined()
    await server.close()
    await cli.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
