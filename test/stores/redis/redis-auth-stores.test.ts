import { describe } from 'bun:test'
import { RedisAuthStores } from '../../../src/stores/redis/redis-auth-stores.ts'
import { RedisBus } from '../../../src/stores/redis/redis-bus.ts'
import { runAuthStoresContract } from '../../auth/stores.case.ts'
import { hasRedis, testLink, testPrefix } from '../../_utils/redis.ts'

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
})
