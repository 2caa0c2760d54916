import { describe } from 'bun:test'
import { RedisBus } from '../../../src/stores/redis/redis-bus.ts'
import { RedisSessionStore } from '../../../src/stores/redis/redis-session-store.ts'
import { runSessionStoreContract } from '../../core/session-store.case.ts'
import { hasRedis, testLink, testPrefix } from '../../_utils/redis.ts'

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
})
