/**
 * The AuthStore contract: every implementation (memory, SQLite, later Redis) runs this suite.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { AuthStore } from '../../src/store/auth-store.ts'

export function runAuthStoreContract(name: string, make: () => AuthStore | Promise<AuthStore>): void {
  describe(`${name} (AuthStore contract)`, () => {
    let store: AuthStore
    beforeEach(async () => {
      store = await make()
    })
    afterEach(() => store.close())

    test('users are created with a lower-cased email, found by id and email, listed, and re-tiered', async () => {
      const u = await store.createUser({ email: 'Ada@Example.COM', tier: 'user', now: 1000 })
      expect(u.email).toBe('ada@example.com')
      expect(u.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(await store.getUser(u.id)).toEqual(u)
      expect(await store.getUserByEmail(' ADA@example.com ')).toEqual(u)
      expect(await store.getUserByEmail('other@example.com')).toBeUndefined()
      await store.setUserTier(u.id, 'admin')
      expect((await store.getUser(u.id))!.tier).toBe('admin')
      await store.createUser({ email: 'bob@example.com', tier: 'public', now: 2000 })
      expect((await store.listUsers()).map((x) => x.email)).toEqual(['ada@example.com', 'bob@example.com'])
    })

    test('a second user with the same email is refused', async () => {
      await store.createUser({ email: 'a@example.com', tier: 'user', now: 1 })
      await expect(store.createUser({ email: 'A@example.com', tier: 'admin', now: 2 })).rejects.toThrow('already exists')
    })

    test('sessions record MFA and revocation; revoking twice reports false', async () => {
      await store.createSession({ id: 's1', userId: 'u1', createdAt: 1, expiresAt: 10_000 })
      expect(await store.getSession('s1')).toEqual({ id: 's1', userId: 'u1', createdAt: 1, expiresAt: 10_000 })
      await store.setSessionMfa('s1', 5000)
      expect((await store.getSession('s1'))!.mfaVerifiedUntil).toBe(5000)
      expect(await store.revokeSession('s1', 7)).toBe(true)
      expect(await store.revokeSession('s1', 8)).toBe(false)
      expect((await store.getSession('s1'))!.revokedAt).toBe(7)
      // A revoked session can no longer be MFA-upgraded.
      await store.setSessionMfa('s1', 9000)
      expect((await store.getSession('s1'))!.mfaVerifiedUntil).toBe(5000)
      expect(await store.getSession('nope')).toBeUndefined()
    })

    test('a session is read with its user in one call; a missing user or session says so', async () => {
      const u = await store.createUser({ email: 'Ada@example.com', tier: 'admin', now: 5 })
      await store.createSession({ id: 's1', userId: u.id, createdAt: 1, expiresAt: 10_000 })
      await store.createSession({ id: 'orphan', userId: 'no-such-user', createdAt: 1, expiresAt: 10_000 })
      expect(await store.getSessionWithUser('s1')).toEqual({ session: { id: 's1', userId: u.id, createdAt: 1, expiresAt: 10_000 }, user: u })
      await store.setSessionMfa('s1', 5000)
      await store.revokeSession('s1', 7)
      await store.setUserTier(u.id, 'public')
      expect(await store.getSessionWithUser('s1')).toEqual({
        session: { id: 's1', userId: u.id, createdAt: 1, expiresAt: 10_000, mfaVerifiedUntil: 5000, revokedAt: 7 },
        user: { ...u, tier: 'public' },
      })
      expect(await store.getSessionWithUser('orphan')).toEqual({ session: { id: 'orphan', userId: 'no-such-user', createdAt: 1, expiresAt: 10_000 } })
      expect(await store.getSessionWithUser('nope')).toBeUndefined()
    })

    test('revoking a user\'s sessions touches only that user\'s live sessions', async () => {
      await store.createSession({ id: 'a1', userId: 'ua', createdAt: 1, expiresAt: 100 })
      await store.createSession({ id: 'a2', userId: 'ua', createdAt: 1, expiresAt: 100 })
      await store.createSession({ id: 'b1', userId: 'ub', createdAt: 1, expiresAt: 100 })
      await store.revokeSession('a2', 2)
      expect(await store.revokeUserSessions('ua', 3)).toEqual(['a1'])
      expect((await store.getSession('b1'))!.revokedAt).toBeUndefined()
      expect((await store.getSession('a2'))!.revokedAt).toBe(2)
    })

    test('a login token is consumed once; an expired one yields nothing', async () => {
      await store.putLoginToken({ hash: 'h1', email: 'A@x.io', expiresAt: 100 })
      expect(await store.consumeLoginToken('h1', 50)).toBe('a@x.io')
      expect(await store.consumeLoginToken('h1', 50)).toBeUndefined()
      await store.putLoginToken({ hash: 'h2', email: 'a@x.io', expiresAt: 100 })
      expect(await store.consumeLoginToken('h2', 100)).toBeUndefined()
      expect(await store.consumeLoginToken('unknown', 0)).toBeUndefined()
    })

    test('of 50 concurrent consumes of one token exactly one succeeds', async () => {
      await store.putLoginToken({ hash: 'race', email: 'r@x.io', expiresAt: 1e15 })
      const results = await Promise.all(Array.from({ length: 50 }, () => store.consumeLoginToken('race', 1)))
      expect(results.filter((r) => r === 'r@x.io')).toHaveLength(1)
    })

    test('a WebSocket ticket is consumed once; an expired one yields nothing; it is no login token', async () => {
      await store.putWsTicket({ hash: 't1', sessionId: 's1', expiresAt: 100 })
      expect(await store.consumeLoginToken('t1', 50)).toBeUndefined()
      expect(await store.consumeWsTicket('t1', 50)).toBe('s1')
      expect(await store.consumeWsTicket('t1', 50)).toBeUndefined()
      await store.putWsTicket({ hash: 't2', sessionId: 's1', expiresAt: 100 })
      expect(await store.consumeWsTicket('t2', 100)).toBeUndefined()
      // Spent by the expired attempt, not merely refused.
      expect(await store.consumeWsTicket('t2', 50)).toBeUndefined()
      await store.putLoginToken({ hash: 'l1', email: 'a@x.io', expiresAt: 100 })
      expect(await store.consumeWsTicket('l1', 50)).toBeUndefined()
      expect(await store.consumeWsTicket('unknown', 0)).toBeUndefined()
    })

    test('of 50 concurrent consumes of one ticket exactly one succeeds', async () => {
      await store.putWsTicket({ hash: 'race', sessionId: 's', expiresAt: 1e15 })
      const results = await Promise.all(Array.from({ length: 50 }, () => store.consumeWsTicket('race', 1)))
      expect(results.filter((r) => r === 's')).toHaveLength(1)
    })

    test('TOTP enrolment is unconfirmed until confirmed; steps can be claimed only forward', async () => {
      await store.putTotp('u1', 'box1')
      expect(await store.getTotp('u1')).toEqual({ userId: 'u1', secretBox: 'box1', confirmed: false, failures: 0 })
      await store.confirmTotp('u1')
      expect((await store.getTotp('u1'))!.confirmed).toBe(true)
      expect(await store.claimTotpStep('u1', 10)).toBe(true)
      expect(await store.claimTotpStep('u1', 10)).toBe(false)
      expect(await store.claimTotpStep('u1', 9)).toBe(false)
      expect(await store.claimTotpStep('u1', 11)).toBe(true)
      expect((await store.getTotp('u1'))!.lastStep).toBe(11)
      expect(await store.claimTotpStep('nobody', 1)).toBe(false)
      const claims = await Promise.all(Array.from({ length: 20 }, () => store.claimTotpStep('u1', 12)))
      expect(claims.filter(Boolean)).toHaveLength(1)
      // Re-enrolling starts over.
      await store.putTotp('u1', 'box2')
      expect(await store.getTotp('u1')).toEqual({ userId: 'u1', secretBox: 'box2', confirmed: false, failures: 0 })
      await store.deleteTotp('u1')
      expect(await store.getTotp('u1')).toBeUndefined()
    })

    test('TOTP failures lock at the limit, the lock runs out, and a success resets the count', async () => {
      await store.putTotp('u1', 'box')
      expect(await store.recordTotpFailure('u1', 1000, 3, 500)).toEqual({ failures: 1 })
      expect(await store.recordTotpFailure('u1', 1001, 3, 500)).toEqual({ failures: 2 })
      expect(await store.recordTotpFailure('u1', 1002, 3, 500)).toEqual({ failures: 3, lockedUntil: 1502 })
      expect((await store.getTotp('u1'))!.lockedUntil).toBe(1502)
      // After the lock has run out the count starts again.
      expect(await store.recordTotpFailure('u1', 2000, 3, 500)).toEqual({ failures: 1 })
      await store.resetTotpFailures('u1')
      const t = (await store.getTotp('u1'))!
      expect([t.failures, t.lockedUntil]).toEqual([0, undefined])
      expect(await store.recordTotpFailure('nobody', 1, 3, 5)).toEqual({ failures: 0 })
    })

    test('counters count within a window and restart after it', async () => {
      expect(await store.hit('k', 100, 1000)).toEqual({ count: 1, resetAt: 1100 })
      expect(await store.hit('k', 100, 1050)).toEqual({ count: 2, resetAt: 1100 })
      expect(await store.hit('other', 100, 1050)).toEqual({ count: 1, resetAt: 1150 })
      expect(await store.hit('k', 100, 1100)).toEqual({ count: 1, resetAt: 1200 })
      const hits = await Promise.all(Array.from({ length: 30 }, () => store.hit('c', 1000, 5000)))
      expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
    })

    test('audit records come back newest first, filtered and limited', async () => {
      await store.appendAudit([{ at: 1, kind: 'tool_call', outcome: 'ok', userId: 'u1', email: 'a@x.io', tool: 'echo', toolTier: 'public', transport: 'rest', argsDigest: 'd', latencyMs: 1.5 }])
      await store.appendAudit([
        { at: 2, kind: 'login_requested', outcome: 'sent', email: 'b@x.io', clientAddress: '127.0.0.1' },
        { at: 3, kind: 'tool_call', outcome: 'denied', userId: 'u2', tool: 'audit_query', detail: 'tier' },
      ])
      await store.appendAudit([])
      const all = await store.queryAudit({ limit: 10 })
      expect(all.map((r) => r.at)).toEqual([3, 2, 1])
      expect(all[0]!.id! > all[1]!.id!).toBe(true)
      expect(all[2]).toMatchObject({ kind: 'tool_call', outcome: 'ok', userId: 'u1', email: 'a@x.io', tool: 'echo', toolTier: 'public', transport: 'rest', argsDigest: 'd', latencyMs: 1.5 })
      expect((await store.queryAudit({ limit: 10, kind: 'tool_call' })).map((r) => r.at)).toEqual([3, 1])
      expect((await store.queryAudit({ limit: 10, userId: 'u2' })).map((r) => r.at)).toEqual([3])
      expect((await store.queryAudit({ limit: 10, email: 'B@X.io' })).map((r) => r.at)).toEqual([2])
      expect((await store.queryAudit({ limit: 10, outcome: 'ok', tool: 'echo' })).map((r) => r.at)).toEqual([1])
      expect((await store.queryAudit({ limit: 10, since: 2, until: 2 })).map((r) => r.at)).toEqual([2])
      expect((await store.queryAudit({ limit: 1 })).map((r) => r.at)).toEqual([3])
    })

    test('purging drops expired tokens, tickets, sessions and counters only', async () => {
      await store.putLoginToken({ hash: 'old', email: 'a@x.io', expiresAt: 10 })
      await store.putLoginToken({ hash: 'new', email: 'a@x.io', expiresAt: 1000 })
      await store.putWsTicket({ hash: 'old-ticket', sessionId: 'new', expiresAt: 10 })
      await store.putWsTicket({ hash: 'new-ticket', sessionId: 'new', expiresAt: 1000 })
      await store.createSession({ id: 'old', userId: 'u', createdAt: 0, expiresAt: 10 })
      await store.createSession({ id: 'new', userId: 'u', createdAt: 0, expiresAt: 1000 })
      await store.hit('old', 10, 0)
      await store.purgeExpired(100)
      expect(await store.getSession('old')).toBeUndefined()
      expect(await store.getSession('new')).toBeDefined()
      expect(await store.consumeLoginToken('new', 100)).toBe('a@x.io')
      expect(await store.consumeWsTicket('new-ticket', 100)).toBe('new')
      // Gone, not just expired: even a clock before its expiry finds nothing.
      expect(await store.consumeWsTicket('old-ticket', 5)).toBeUndefined()
      expect(await store.hit('old', 10, 100)).toEqual({ count: 1, resetAt: 110 })
    })

    test('ping resolves while the store is usable (readiness)', async () => {
      await expect(store.ping()).resolves.toBeUndefined()
    })
  })
}
