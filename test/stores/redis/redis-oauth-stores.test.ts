import { describe } from 'bun:test'
import { redisOAuthStores } from '../../../src/stores/redis/redis-oauth-stores.ts'
import { runOAuthStoresContract } from '../../oauth/oauth-stores.case.ts'
import { hasRedis, testLink, testPrefix } from '../../_utils/redis.ts'

describe.skipIf(!hasRedis)('Redis', () => {
  const prefix = testPrefix('oauth')
  runOAuthStoresContract('redis (two instances)', async () => {
    // Each test gets a keyspace of its own.
    const keyspace = `${prefix}${crypto.randomUUID().slice(0, 8)}:`
    const [la, lb] = await Promise.all([testLink(keyspace), testLink(keyspace)])
    return {
      a: redisOAuthStores(la),
      b: redisOAuthStores(lb),
      close: async () => {
        await la.close()
        await lb.close()
      },
    }
  })
})
