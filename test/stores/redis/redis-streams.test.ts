import { describe } from 'bun:test'
import { RedisInstances } from '../../../src/stores/redis/redis-instances.ts'
import { RedisStreams } from '../../../src/stores/redis/redis-streams.ts'
import { runStreamsContract } from '../../core/streams.case.ts'
import { hasRedis, testLink, testPrefix } from '../../_utils/redis.ts'

describe.skipIf(!hasRedis)('Redis', () => {
  const prefix = testPrefix('streams')
  runStreamsContract('RedisStreams (two instances)', async () => {
    const [la, lb] = await Promise.all([testLink(prefix), testLink(prefix)])
    const ia = new RedisInstances(la, 'inst-a')
    const ib = new RedisInstances(lb, 'inst-b')
    await Promise.all([ia.start(), ib.start()])
    const logMaxBytes = 64 * 1024
    const a = new RedisStreams(la, ia, { retentionMs: 60_000, maxBytes: logMaxBytes })
    const b = new RedisStreams(lb, ib, { retentionMs: 60_000, maxBytes: logMaxBytes })
    return {
      a,
      b,
      logMaxBytes,
      close: async () => {
        await a.close()
        await b.close()
        await ia.stop()
        await ib.stop()
        await la.close()
        await lb.close()
      },
    }
  })
})
