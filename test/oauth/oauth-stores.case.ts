/**
 * The OAuth stores' contract: every implementation (memory, SQLite, later Redis) runs this suite.
 * `make` may return two handles on one shared state (two SQLite connections to one file) to show
 * the atomic methods hold across instances.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { AuthorizationCode, OAuthClient, OAuthStores, RefreshToken } from '../../src/oauth/stores.ts'

export interface StorePair {
  a: OAuthStores
  b: OAuthStores
  close(): void | Promise<void>
}

const client = (id: string, expiresAt = 10_000): OAuthClient => ({
  clientId: id,
  tokenEndpointAuthMethod: 'none',
  redirectUris: ['http://127.0.0.1/cb'],
  grantTypes: ['authorization_code', 'refresh_token'],
  clientName: 'Test',
  registrationTokenHash: 'r'.repeat(64),
  issuedAt: 1,
  expiresAt,
})
const code = (expiresAt = 1000): AuthorizationCode => ({
  clientId: 'c1', redirectUri: 'http://127.0.0.1/cb', codeChallenge: 'x'.repeat(43), resource: 'http://h/mcp', scope: 'mcp:tools',
  userId: 'u1', authTime: 1, amr: ['email'], expiresAt,
})
const rt = (grantId = 'g1', expiresAt = 10_000): RefreshToken => ({
  grantId, clientId: 'c1', userId: 'u1', scope: 'mcp:tools', resource: 'http://h/mcp', authTime: 1, amr: ['email'], expiresAt,
})

export function runOAuthStoresContract(name: string, make: () => StorePair | Promise<StorePair>): void {
  describe(`${name} (OAuth stores contract)`, () => {
    let p: StorePair
    beforeEach(async () => {
      p = await make()
    })
    afterEach(() => p.close())

    test('clients are stored, read from any instance, expire, and are kept while in use', async () => {
      await p.a.clients.create(client('c1'))
      expect(await p.b.clients.get('c1', 5)).toEqual(client('c1'))
      expect(await p.b.clients.get('c1', 10_000)).toBeUndefined()
      await p.b.clients.touch('c1', 20_000)
      expect((await p.a.clients.get('c1', 10_000))!.expiresAt).toBe(20_000)
      // touch never shortens a client's life
      await p.a.clients.touch('c1', 15_000)
      expect((await p.a.clients.get('c1', 16_000))!.expiresAt).toBe(20_000)
      expect(await p.a.clients.get('nope', 1)).toBeUndefined()
    })

    test('a code is redeemed once; later presentations name the grant it produced and are recorded', async () => {
      await p.a.codes.put('h1', code())
      expect(await p.a.codes.reused('h1')).toBe(false)
      expect(await p.b.codes.redeem('h1', 'g1', 5)).toEqual({ code: code() })
      expect(await p.a.codes.redeem('h1', 'g2', 6)).toEqual({ reusedBy: 'g1' })
      expect(await p.b.codes.reused('h1')).toBe(true)
      // After expiry a used code still reveals its grant: a late replay revokes it too.
      expect(await p.a.codes.redeem('h1', 'g3', 5000)).toEqual({ reusedBy: 'g1' })
      expect(await p.a.codes.redeem('unknown', 'g4', 5)).toBeUndefined()
    })

    test('an expired code is never redeemed', async () => {
      await p.a.codes.put('h2', code(1000))
      expect(await p.a.codes.redeem('h2', 'g1', 1000)).toBeUndefined()
    })

    test('of 50 concurrent redemptions across instances exactly one gets the code', async () => {
      await p.a.codes.put('race', code())
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? p.a : p.b).codes.redeem('race', `g${i}`, 5)))
      const winners = results.filter((r) => r !== undefined && 'code' in r)
      expect(winners).toHaveLength(1)
      const winnerGrant = `g${results.findIndex((r) => r !== undefined && 'code' in r)}`
      expect(results.filter((r) => r !== undefined && 'reusedBy' in r && r.reusedBy === winnerGrant)).toHaveLength(49)
    })

    test('refresh tokens rotate once; the old one then reads as used and rotating it again is reuse', async () => {
      await p.a.refreshTokens.put('r1', rt())
      expect(await p.b.refreshTokens.get('r1', 5)).toEqual({ token: rt(), used: false })
      expect(await p.b.refreshTokens.rotate('r1', 'r2', rt(), 5)).toBe('rotated')
      expect(await p.a.refreshTokens.get('r1', 5)).toEqual({ token: rt(), used: true })
      expect(await p.a.refreshTokens.get('r2', 5)).toEqual({ token: rt(), used: false })
      expect(await p.a.refreshTokens.rotate('r1', 'r3', rt(), 6)).toBe('reused')
      expect(await p.a.refreshTokens.get('r3', 6)).toBeUndefined()
      expect(await p.a.refreshTokens.rotate('nope', 'r4', rt(), 6)).toBe('missing')
      // Expired: gone, never reused.
      expect(await p.a.refreshTokens.rotate('r2', 'r5', rt(), 10_000)).toBe('missing')
      expect(await p.a.refreshTokens.get('r2', 10_000)).toBeUndefined()
    })

    test('of 50 concurrent rotations of one refresh token across instances exactly one rotates', async () => {
      await p.a.refreshTokens.put('r1', rt())
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? p.a : p.b).refreshTokens.rotate('r1', `n${i}`, rt(), 5)))
      expect(results.filter((r) => r === 'rotated')).toHaveLength(1)
      expect(results.filter((r) => r === 'reused')).toHaveLength(49)
    })

    test('deleting a grant forgets all of its refresh tokens and no other', async () => {
      await p.a.refreshTokens.put('r1', rt('g1'))
      await p.a.refreshTokens.rotate('r1', 'r2', rt('g1'), 5)
      await p.a.refreshTokens.put('o1', rt('g2'))
      await p.b.refreshTokens.deleteGrant('g1')
      expect(await p.a.refreshTokens.get('r1', 5)).toBeUndefined()
      expect(await p.a.refreshTokens.get('r2', 5)).toBeUndefined()
      expect(await p.a.refreshTokens.get('o1', 5)).toBeDefined()
    })

    test('consents are remembered until they expire', async () => {
      await p.a.consents.remember('k', 100)
      expect(await p.b.consents.has('k', 99)).toBe(true)
      expect(await p.b.consents.has('k', 100)).toBe(false)
      expect(await p.b.consents.has('other', 1)).toBe(false)
    })

    test('handles are read until they expire and taken once', async () => {
      for (const table of ['pending', 'browserLogins', 'githubStates'] as const) {
        const a = p.a[table] as OAuthStores['browserLogins']
        const b = p.b[table] as OAuthStores['browserLogins']
        const v = { userId: 'u1', authTime: 1, amr: ['email'] }
        await a.put('h', v, 100)
        expect(await b.get('h', 50)).toEqual(v)
        expect(await b.get('h', 100)).toBeUndefined()
        const takes = await Promise.all([a.take('h', 50), b.take('h', 50), a.take('h', 50)])
        expect(takes.filter((t) => t !== undefined)).toEqual([v])
        await a.put('d', v, 100)
        await b.delete('d')
        expect(await a.get('d', 1)).toBeUndefined()
      }
      // Kinds are separate tables: a handle of one kind is not found as another.
      await p.a.browserLogins.put('same', { userId: 'u', authTime: 1, amr: [] }, 100)
      expect(await p.a.githubStates.get('same', 1)).toBeUndefined()
      expect(await p.a.pending.take('same', 1)).toBeUndefined()
    })

    test('a GitHub account links to the first user only', async () => {
      expect(await p.a.githubLinks.get(42)).toBeUndefined()
      const both = await Promise.all([p.a.githubLinks.link(42, 'u1'), p.b.githubLinks.link(42, 'u2')])
      expect(both[0]).toBe(both[1])
      expect(await p.b.githubLinks.get(42)).toBe(both[0])
    })

    test('purging drops what expired and keeps used codes long enough to catch replays', async () => {
      await p.a.clients.create(client('old', 10))
      await p.a.codes.put('c', code(10))
      await p.a.codes.redeem('c', 'g1', 5)
      await p.a.refreshTokens.put('r', rt('g1', 10))
      await p.a.consents.remember('k', 10)
      await p.a.pending.put('h', { clientId: 'c', redirectUri: 'r', codeChallenge: 'x', resource: 'r', scope: 's', browserHash: 'b', csrf: 'c' }, 10)
      // A store may purge, or let a TTL drop records later: either way nothing expired is returned.
      await p.a.purgeExpired(20)
      expect(await p.a.codes.redeem('c', 'g2', 20)).toEqual({ reusedBy: 'g1' })
      expect(await p.a.clients.get('old', 20)).toBeUndefined()
      expect(await p.a.refreshTokens.get('r', 20)).toBeUndefined()
      expect(await p.a.consents.has('k', 20)).toBe(false)
      expect(await p.a.pending.get('h', 20)).toBeUndefined()
      const later = 10 + 3_600_000 + 1
      await p.a.purgeExpired(later)
      expect(await p.a.codes.redeem('c', 'g3', later)).toBeUndefined()
    })
  })
}
