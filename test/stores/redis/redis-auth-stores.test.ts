import { describe, expect, test } from 'bun:test'
import { RedisAuthStores } from '../../../src/stores/redis/redis-auth-stores.ts'
import { RedisBus } from '../../../src/stores/redis/redis-bus.ts'
import { runAuthStoresContract } from '../../auth/stores.case.ts'
import { hasRedis, linksWithCuttableB, testLink, testPrefix } from '../../_utils/redis.ts'
import { until } from '../../_utils/wait.ts'

describe.skipIf(!hasRedis)('Redis', () => {
  const prefix = testPrefix('auth')
  runAuthStoresContract('RedisAuthStores', async () => {
    // Each test gets an empty keyspace of its own: the suite counts and lists users.
    const link = await testLink(`${prefix}${crypto.randomUUID().slice(0, 8)}:`)
    const stores = new RedisAuthStores(link, new RedisBus(link), { cacheMs: 5000, auditMaxRecords: 10_000 })
    await stores.start()
    const close = stores.close.bind(stores)
    stores.close = async () => {
      await close()
      await link.close()
    }
    return stores
  })

  test('while its subscriber is cut off an instance does not answer from its cache: a revocation elsewhere counts at once', async () => {
    const links = await linksWithCuttableB(`${prefix}${crypto.randomUUID().slice(0, 8)}:`)
    const { proxy, b: lb } = links
    const a = new RedisAuthStores(links.a, new RedisBus(links.a), { cacheMs: 60_000, auditMaxRecords: 100 })
    const b = new RedisAuthStores(lb, new RedisBus(lb), { cacheMs: 60_000, auditMaxRecords: 100 })
    await Promise.all([a.start(), b.start()])
    try {
      const user = await a.users.create({ email: 'ada@example.com', tier: 'admin', now: 1 })
      await a.authSessions.create({ id: 's1', userId: user.id, createdAt: 1, expiresAt: Date.now() + 60_000 })
      expect((await b.authSessions.getWithUser('s1'))?.session.revokedAt).toBeUndefined()

      proxy.cut('SUBSCRIBE')
      await until(() => lb.subscriberDownForMs > 0, 2000, "B's subscriber to be cut off")
      expect(await a.authSessions.revoke('s1', 7)).toBe(true)
      expect((await b.authSessions.getWithUser('s1'))?.session.revokedAt).toBe(7)
    } finally {
      await a.close()
      await b.close()
      await links.close()
    }
  })
})
