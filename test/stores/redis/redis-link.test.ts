/**
 * RedisLink: what node-redis does not do by itself (deadlines, channel listeners counted here).
 */
import { describe, expect, test } from 'bun:test'
import { StoreUnavailable } from '../../../src/core/errors.ts'
import { RedisLink } from '../../../src/stores/redis/redis-link.ts'
import { REDIS_URL, hasRedis, testLink, testPrefix } from '../../_utils/redis.ts'
import { tcpProxy } from '../../_utils/tcp-proxy.ts'
import { until } from '../../_utils/wait.ts'

describe.skipIf(!hasRedis)('RedisLink', () => {
  const prefix = testPrefix('link')

  test('a channel left and joined again at once keeps receiving (no lost re-subscription)', async () => {
    const link = await testLink(prefix)
    try {
      for (let i = 0; i < 20; i++) {
        const got: string[] = []
        const off = await link.listen(`${prefix}ch`, (m) => got.push(m))
        off()
        off()
        const again = await link.listen(`${prefix}ch`, (m) => got.push(m))
        await link.publish(`${prefix}ch`, `m${i}`)
        await until(() => got.length === 1, 2000, `message ${i}`)
        expect(got).toEqual([`m${i}`])
        again()
      }
      await until(() => link.channelCount === 0, 1000, 'no channel left')
    } finally {
      await link.close()
    }
  })

  test('a command Redis does not answer in time fails as StoreUnavailable; an unreachable Redis fails fast', async () => {
    const link = await testLink(prefix, 100)
    try {
      const err = await link.call(['BLPOP', `${prefix}never`, '2']).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(StoreUnavailable)
    } finally {
      await link.close()
    }
    const down = new RedisLink({ url: 'redis://127.0.0.1:1', prefix, commandTimeoutMs: 100, connectTimeoutMs: 500 })
    await expect(down.connect()).rejects.toThrow(/cannot connect to Redis at redis:\/\/127\.0\.0\.1:1/)
  })

  test('closing while the subscriber is away does not wait for it to come back (shutdown during an outage)', async () => {
    const proxy = await tcpProxy(REDIS_URL)
    try {
      const link = new RedisLink({ url: proxy.url, prefix, commandTimeoutMs: 500 })
      await link.connect()
      const off = await link.listen(`${prefix}ch`, () => {})
      proxy.cut('SUBSCRIBE')
      await until(() => link.subscriberDownForMs > 0, 2000, 'the subscriber to be cut off')
      // Leaving a channel queues an UNSUBSCRIBE behind the reconnection.
      off()
      const closed = await Promise.race([link.close().then(() => 'closed'), Bun.sleep(3000).then(() => 'still waiting')])
      expect(closed).toBe('closed')
    } finally {
      await proxy.close()
    }
  })
})
