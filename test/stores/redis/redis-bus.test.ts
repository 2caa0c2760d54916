import { describe } from 'bun:test'
import { RedisBus } from '../../../src/stores/redis/redis-bus.ts'
import { runBusContract } from '../../core/bus.case.ts'
import { hasRedis, testLink, testPrefix } from '../../_utils/redis.ts'

describe.skipIf(!hasRedis)('Redis', () => {
  const prefix = testPrefix('bus')
  runBusContract('RedisBus (two instances)', async () => {
    const [la, lb] = await Promise.all([testLink(prefix), testLink(prefix)])
    return {
      a: new RedisBus(la),
      b: new RedisBus(lb),
      close: async () => {
        await la.close()
        await lb.close()
      },
    }
  })
})
