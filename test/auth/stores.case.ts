/**
 * The identity stores' contract: every backend (memory, SQLite, Redis) runs this suite.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { AuthStores } from '../../src/auth/stores.ts'

export function runAuthStoresContract(name: string, make: () => AuthStores | Promise<AuthStores>): void {
  describe(`${name} (AuthStores contract)`, () => {
    let stores: AuthStores
    beforeEach(async () => {
      stores = await make()
    })
    afterEach(() => stores.close())

    test('users are found by id and email, listed by page in creation order, and re-tiered', async () => {
      const { users } = stores
      const u = await users.create({ email: 'ada@example.com', tier: 'user', now: 1000 })
      expect(u.email).toBe('ada@example.com')
      expect(u.id).toMatch(/^[0-9a-f-]{36}$/)
      expect(await users.get(u.id)).toEqual(u)
      expect(await users.getByEmail('ada@example.com')).toEqual(u)
      expect(await users.getByEmail('other@example.com')).toBeUndefined()
      await users.setTier(u.id, 'admin')
      expect((await users.get(u.id))!.tier).toBe('admin')
      for (let i = 0; i < 4; i++) await users.create({ email: `u${i}@example.com`, tier: 'public', now: 2000 + i })
      const first = await users.list({ limit: 2 })
      expect(first.users.map((x) => x.email)).toEqual(['ada@example.com', 'u0@example.com'])
      const second = await users.list({ limit: 2, after: first.next })
      expect(second.users.map((x) => x.email)).toEqual(['u1@example.com', 'u2@example.com'])
      const last = await users.list({ limit: 2, after: second.next })
      expect(last).toEqual({ users: [expect.objectContaining({ email: 'u3@example.com' })] })
    })

    test('a second user with the same email is refused', async () => {
      await stores.users.create({ email: 'a@example.com', tier: 'user', now: 1 })
      await expect(stores.users.create({ email: 'a@example.com', tier: 'admin', now: 2 })).rejects.toThrow('already exists')
    })

    // Sessions expire on the real clock (a store may drop them by TTL): these live an hour.
    const later = Date.now() + 3_600_000

    test('sessions record MFA and revocation; revoking twice reports false', async () => {
      const s = stores.authSessions
      await s.create({ id: 's1', userId: 'u1', createdAt: 1, expiresAt: later })
      expect(await s.get('s1')).toEqual({ id: 's1', userId: 'u1', createdAt: 1, expiresAt: later })
      await s.setMfa('s1', 5000)
      expect((await s.get('s1'))!.mfaVerifiedUntil).toBe(5000)
      expect(await s.revoke('s1', 7)).toBe(true)
      expect(await s.revoke('s1', 8)).toBe(false)
      expect((await s.get('s1'))!.revokedAt).toBe(7)
      // A revoked session can no longer be MFA-upgraded.
      await s.setMfa('s1', 9000)
      expect((await s.get('s1'))!.mfaVerifiedUntil).toBe(5000)
      expect(await s.get('nope')).toBeUndefined()
      expect(await s.revoke('nope', 1)).toBe(false)
    })

    test('a session is read with its user in one call; a missing user or session says so', async () => {
      const u = await stores.users.create({ email: 'ada@example.com', tier: 'admin', now: 5 })
      const s = stores.authSessions
      await s.create({ id: 's1', userId: u.id, createdAt: 1, expiresAt: later })
      await s.create({ id: 'orphan', userId: 'no-such-user', createdAt: 1, expiresAt: later })
      expect(await s.getWithUser('s1')).toEqual({ session: { id: 's1', userId: u.id, createdAt: 1, expiresAt: later }, user: u })
      await s.setMfa('s1', 5000)
      await s.revoke('s1', 7)
      await stores.users.setTier(u.id, 'public')
      expect(await s.getWithUser('s1')).toEqual({
        session: { id: 's1', userId: u.id, createdAt: 1, expiresAt: later, mfaVerifiedUntil: 5000, revokedAt: 7 },
        user: { ...u, tier: 'public' },
      })
      expect(await s.getWithUser('orphan')).toEqual({ session: { id: 'orphan', userId: 'no-such-user', createdAt: 1, expiresAt: later } })
      expect(await s.getWithUser('nope')).toBeUndefined()
      // Answers are copies: a caller cannot change what is stored.
      ;(await s.getWithUser('s1'))!.session.revokedAt = 99
      expect((await s.getWithUser('s1'))!.session.revokedAt).toBe(7)
    })

    test("revoking a user's sessions touches only that user's live sessions", async () => {
      const s = stores.authSessions
      await s.create({ id: 'a1', userId: 'ua', createdAt: 1, expiresAt: later })
      await s.create({ id: 'a2', userId: 'ua', createdAt: 1, expiresAt: later })
      await s.create({ id: 'b1', userId: 'ub', createdAt: 1, expiresAt: later })
      await s.revoke('a2', 2)
      expect(await s.revokeUser('ua', 3)).toEqual(['a1'])
      expect((await s.get('b1'))!.revokedAt).toBeUndefined()
      expect((await s.get('a2'))!.revokedAt).toBe(2)
    })

    test('a one-time token is consumed once; an expired one is spent by the attempt; kinds are apart', async () => {
      const login = stores.oneTimeTokens('login')
      const tickets = stores.oneTimeTokens('ws_ticket')
      // Real clock times: a store may also drop expired tokens by itself.
      const now = Date.now()
      await login.put('h1', 'a@x.io', now + 60_000)
      expect(await tickets.consume('h1', now)).toBeUndefined()
      expect(await stores.oneTimeTokens('totp_enrolment').consume('h1', now)).toBeUndefined()
      expect(await login.consume('h1', now)).toBe('a@x.io')
      expect(await login.consume('h1', now)).toBeUndefined()
      await tickets.put('t2', 's1', now + 60_000)
      expect(await tickets.consume('t2', now + 60_000)).toBeUndefined()
      expect(await tickets.consume('t2', now)).toBeUndefined()
      expect(await login.consume('unknown', now)).toBeUndefined()
      // The same hash in two kinds is two tokens.
      await login.put('same', 'a@x.io', now + 60_000)
      await tickets.put('same', 's1', now + 60_000)
      expect(await tickets.consume('same', now)).toBe('s1')
      expect(await login.consume('same', now)).toBe('a@x.io')
    })

    test('of 50 concurrent consumes of one token exactly one succeeds', async () => {
      const login = stores.oneTimeTokens('login')
      await login.put('race', 'r@x.io', Date.now() + 60_000)
      const results = await Promise.all(Array.from({ length: 50 }, () => login.consume('race', Date.now())))
      expect(results.filter((r) => r === 'r@x.io')).toHaveLength(1)
    })

    test('a TOTP enrolment is pending until the auth session that started it confirms it; steps can be claimed only forward', async () => {
      const t = stores.totp
      await t.startEnrolment('u1', 'box1', 's1')
      expect(await t.get('u1')).toEqual({ userId: 'u1', pending: { secretBox: 'box1', authSessionId: 's1' }, failures: 0 })
      expect(await t.confirmEnrolment('u1', 's2', 7)).toBe(false)
      expect(await t.confirmEnrolment('nobody', 's1', 7)).toBe(false)
      expect(await t.confirmEnrolment('u1', 's1', 7)).toBe(true)
      expect(await t.confirmEnrolment('u1', 's1', 8)).toBe(false)
      expect(await t.get('u1')).toEqual({ userId: 'u1', secretBox: 'box1', lastStep: 7, failures: 0 })
      expect(await t.claimStep('u1', 10)).toBe(true)
      expect(await t.claimStep('u1', 10)).toBe(false)
      expect(await t.claimStep('u1', 9)).toBe(false)
      expect(await t.claimStep('u1', 11)).toBe(true)
      expect((await t.get('u1'))!.lastStep).toBe(11)
      expect(await t.claimStep('nobody', 1)).toBe(false)
      const claims = await Promise.all(Array.from({ length: 20 }, () => t.claimStep('u1', 12)))
      expect(claims.filter(Boolean)).toHaveLength(1)
      await t.delete('u1')
      expect(await t.get('u1')).toBeUndefined()
    })

    test('re-enrolling keeps the confirmed authenticator, the failure count and the lock until the new one is confirmed', async () => {
      const t = stores.totp
      await t.startEnrolment('u1', 'old', 's1')
      await t.confirmEnrolment('u1', 's1', 5)
      await t.recordFailure('u1', 1000, 2, 500)
      await t.recordFailure('u1', 1001, 2, 500)
      await t.startEnrolment('u1', 'new', 's2')
      await t.startEnrolment('u1', 'newer', 's3')
      expect(await t.get('u1')).toEqual({ userId: 'u1', secretBox: 'old', pending: { secretBox: 'newer', authSessionId: 's3' }, lastStep: 5, failures: 2, lockedUntil: 1501 })
      // Only the session of the latest start may confirm; of concurrent confirmations one wins.
      expect(await t.confirmEnrolment('u1', 's2', 9)).toBe(false)
      const wins = await Promise.all(Array.from({ length: 10 }, () => t.confirmEnrolment('u1', 's3', 9)))
      expect(wins.filter(Boolean)).toHaveLength(1)
      expect(await t.get('u1')).toEqual({ userId: 'u1', secretBox: 'newer', lastStep: 9, failures: 2, lockedUntil: 1501 })
    })

    test('TOTP failures lock at the limit, the lock runs out, and a success resets the count', async () => {
      const t = stores.totp
      await t.startEnrolment('u1', 'box', 's1')
      expect(await t.recordFailure('u1', 1000, 3, 500)).toEqual({ failures: 1 })
      expect(await t.recordFailure('u1', 1001, 3, 500)).toEqual({ failures: 2 })
      expect(await t.recordFailure('u1', 1002, 3, 500)).toEqual({ failures: 3, lockedUntil: 1502 })
      expect((await t.get('u1'))!.lockedUntil).toBe(1502)
      // After the lock has run out the count starts again.
      expect(await t.recordFailure('u1', 2000, 3, 500)).toEqual({ failures: 1 })
      await t.resetFailures('u1')
      const state = (await t.get('u1'))!
      expect([state.failures, state.lockedUntil]).toEqual([0, undefined])
      expect(await t.recordFailure('nobody', 1, 3, 5)).toEqual({ failures: 0 })
    })

    test('counters count within a window and restart after it, exactly under concurrency', async () => {
      const c = stores.counters
      expect(await c.hit('k', 100, 1000, 1)).toEqual({ count: 1, resetAt: 1100 })
      expect(await c.hit('k', 100, 1050, 1)).toEqual({ count: 2, resetAt: 1100 })
      expect(await c.hit('other', 100, 1050, 1)).toEqual({ count: 1, resetAt: 1150 })
      expect(await c.hit('k', 100, 1100, 1)).toEqual({ count: 1, resetAt: 1200 })
      const hits = await Promise.all(Array.from({ length: 30 }, () => c.hit('c', 1000, 5000, 1)))
      expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 30 }, (_, i) => i + 1))
      // A weighted hit (a batch of messages) counts as many; a new window starts at its weight.
      expect(await c.hit('w', 100, 1000, 5)).toEqual({ count: 5, resetAt: 1100 })
      expect(await c.hit('w', 100, 1010, 3)).toEqual({ count: 8, resetAt: 1100 })
      expect(await c.hit('w', 100, 1100, 2)).toEqual({ count: 2, resetAt: 1200 })
    })

    test('audit records come back newest first, filtered and limited', async () => {
      const a = stores.audit
      await a.append([{ at: 1, kind: 'tool_call', outcome: 'ok', userId: 'u1', email: 'a@x.io', tool: 'echo', toolTier: 'public', transport: 'rest', argsDigest: 'd', latencyMs: 1.5 }])
      await a.append([
        { at: 2, kind: 'login_requested', outcome: 'sent', email: 'b@x.io', clientAddress: '127.0.0.1' },
        { at: 3, kind: 'tool_call', outcome: 'denied', userId: 'u2', tool: 'audit_query', detail: 'tier' },
      ])
      await a.append([])
      const all = await a.query({ limit: 10 })
      expect(all.map((r) => r.at)).toEqual([3, 2, 1])
      expect(all[0]!.id! > all[1]!.id!).toBe(true)
      expect(all[2]).toMatchObject({ kind: 'tool_call', outcome: 'ok', userId: 'u1', email: 'a@x.io', tool: 'echo', toolTier: 'public', transport: 'rest', argsDigest: 'd', latencyMs: 1.5 })
      expect((await a.query({ limit: 10, kind: 'tool_call' })).map((r) => r.at)).toEqual([3, 1])
      expect((await a.query({ limit: 10, userId: 'u2' })).map((r) => r.at)).toEqual([3])
      expect((await a.query({ limit: 10, email: 'b@x.io' })).map((r) => r.at)).toEqual([2])
      expect((await a.query({ limit: 10, outcome: 'ok', tool: 'echo' })).map((r) => r.at)).toEqual([1])
      expect((await a.query({ limit: 10, since: 2, until: 2 })).map((r) => r.at)).toEqual([2])
      expect((await a.query({ limit: 1 })).map((r) => r.at)).toEqual([3])
    })

    test('audit retention deletes the records older than a time, oldest first, in bounded batches', async () => {
      const a = stores.audit
      await a.append(Array.from({ length: 5 }, (_, i) => ({ at: 100 + i, kind: 'k', outcome: 'o' })))
      await a.append([{ at: 1000, kind: 'k', outcome: 'new' }])
      expect(await a.purgeBefore(103, 2)).toBe(2)
      expect((await a.query({ limit: 10 })).map((r) => r.at)).toEqual([1000, 104, 103, 102])
      expect(await a.purgeBefore(103, 10)).toBe(1)
      expect(await a.purgeBefore(103, 10)).toBe(0)
      expect((await a.query({ limit: 10 })).map((r) => r.at)).toEqual([1000, 104, 103])
      await a.append([{ at: 2000, kind: 'k', outcome: 'newer' }])
      expect((await a.query({ limit: 10 })).map((r) => r.at)).toEqual([2000, 1000, 104, 103])
    })

    test('purging drops expired tokens, sessions and counters only, in bounded batches', async () => {
      // Real clock times: a store may also let records expire by themselves (TTLs).
      const now = Date.now()
      const login = stores.oneTimeTokens('login')
      const tickets = stores.oneTimeTokens('ws_ticket')
      await login.put('old', 'a@x.io', now - 1000)
      await login.put('new', 'a@x.io', now + 60_000)
      await tickets.put('old-ticket', 'new', now - 1000)
      await tickets.put('new-ticket', 'new', now + 60_000)
      await stores.authSessions.create({ id: 'old', userId: 'u', createdAt: now - 5000, expiresAt: now - 1000 })
      await stores.authSessions.create({ id: 'new', userId: 'u', createdAt: now - 5000, expiresAt: now + 60_000 })
      await stores.counters.hit('old', 10, now - 1000, 1)
      // A store whose records expire by themselves may report 0; otherwise batches are bounded.
      let purged = 0
      for (let i = 0; i < 10; i++) {
        const n = await stores.purgeExpired(now, 2)
        expect(n).toBeLessThanOrEqual(2)
        purged += n
        if (n < 2) break
      }
      expect([0, 4]).toContain(purged)
      expect(await stores.authSessions.get('old')).toBeUndefined()
      expect(await stores.authSessions.get('new')).toBeDefined()
      expect(await login.consume('new', now)).toBe('a@x.io')
      expect(await tickets.consume('new-ticket', now)).toBe('new')
      // Gone, not just expired: even a clock before its expiry finds nothing.
      expect(await tickets.consume('old-ticket', now - 5000)).toBeUndefined()
      expect(await stores.counters.hit('old', 10, now, 1)).toEqual({ count: 1, resetAt: now + 10 })
    })

    test('ping resolves while the store is usable (readiness)', async () => {
      await expect(stores.ping()).resolves.toBeUndefined()
    })
  })
}
