import { describe, expect, test } from 'bun:test'
import { topic } from '../../../src/core/bus.ts'
import { RedisBus } from '../../../src/stores/redis/redis-bus.ts'
import { runBusContract } from '../../core/bus.case.ts'
import { hasRedis, linksWithCuttableB, testLink, testPrefix } from '../../_utils/redis.ts'
import { until } from '../../_utils/wait.ts'

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

  test('a bus cut off from Redis is not hearing (events published meanwhile are lost); back, it hears and says it reconnected', async () => {
    const links = await linksWithCuttableB(prefix)
    const a = new RedisBus(links.a)
    const b = new RedisBus(links.b)
    try {
      const t = topic<number>(`test-${crypto.randomUUID()}`)
      const got: number[] = []
      let reconnects = 0
      b.onReconnect(() => reconnects++)
      await b.subscribe(t, (n) => got.push(n))
      expect(b.hearing).toBe(true)
      links.proxy.cut('SUBSCRIBE')
      await until(() => !b.hearing, 2000, 'B to stop hearing')
      await a.publish(t, 1)
      links.proxy.restore()
      await until(() => b.hearing, 5000, 'B to hear again')
      expect(reconnects).toBe(1)
      await a.publish(t, 2)
      await until(() => got.length > 0, 2000, 'the event published after the reconnection')
      expect(got).toEqual([2])
    } finally {
      await links.close()
    }
  })
})
