import { describe, expect, test } from 'bun:test'
import { RedisBus } from '../../../src/stores/redis/redis-bus.ts'
import { RedisSessionStore } from '../../../src/stores/redis/redis-session-store.ts'
import { runSessionStoreContract, session } from '../../core/session-store.case.ts'
import { hasRedis, linksWithCuttableB, testLink, testPrefix } from '../../_utils/redis.ts'
import { until } from '../../_utils/wait.ts'

describe.skipIf(!hasRedis)('Redis', () => {
  const prefix = testPrefix('sessions')
  runSessionStoreContract('RedisSessionStore (two instances, cached)', async () => {
    const ttlMs = 1000
    const [la, lb] = await Promise.all([testLink(prefix), testLink(prefix)])
    const a = new RedisSessionStore(la, new RedisBus(la), { ttlMs, cacheMs: 5000 })
    const b = new RedisSessionStore(lb, new RedisBus(lb), { ttlMs, cacheMs: 5000 })
    await Promise.all([a.start(), b.start()])
    return {
      a,
      b,
      ttlMs,
      close: async () => {
        await a.close()
        await b.close()
        await la.close()
        await lb.close()
      },
    }
  })

  test('while its subscriber is cut off an instance serves no cached session (a delete elsewhere is not missed); once back it caches again', async () => {
    const links = await linksWithCuttableB(prefix)
    const { proxy, b: lb } = links
    const a = new RedisSessionStore(links.a, new RedisBus(links.a), { ttlMs: 60_000, cacheMs: 60_000 })
    const b = new RedisSessionStore(lb, new RedisBus(lb), { ttlMs: 60_000, cacheMs: 60_000 })
    await Promise.all([a.start(), b.start()])
    try {
      const first = crypto.randomUUID()
      await a.create(session(first))
      expect((await b.get(first))?.id).toBe(first)
      expect(b.cachedCount).toBe(1)

      proxy.cut('SUBSCRIBE')
      await until(() => lb.subscriberDownForMs > 0, 2000, "B's subscriber to be cut off")
      await a.delete(first)
      // The delete notice never reached B; its command connection still answers.
      expect(await b.get(first)).toBeUndefined()

      proxy.restore()
      await until(() => lb.subscriberDownForMs === 0, 5000, "B's subscriber to be back")
      const second = crypto.randomUUID()
      await a.create(session(second))
      await b.get(second)
      await a.update(second, { logLevel: 'debug' })
      await until(async () => (await b.get(second))?.logLevel === 'debug', 2000, 'the change notice to reach B again')
    } finally {
      await a.close()
      await b.close()
      await links.close()
    }
  })
})
