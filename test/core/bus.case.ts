/**
 * The Bus contract: every implementation runs it, with two handles on one backend (two instances;
 * a memory bus passes the same object twice).
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import { topic, type Bus } from '../../src/core/bus.ts'
import { until } from '../_utils/wait.ts'

export interface BusPair {
  a: Bus
  b: Bus
  close(): Promise<void>
}

export function runBusContract(name: string, make: () => Promise<BusPair>): void {
  describe(`${name} (Bus contract)`, () => {
    let pair: BusPair
    beforeEach(async () => {
      pair = await make()
    })
    afterEach(() => pair.close())
    const fresh = <T>() => topic<T>(`test-${crypto.randomUUID()}`)

    test('an event reaches every subscriber on every instance, the publisher included, in publish order', async () => {
      const t = fresh<{ n: number }>()
      const onA: number[] = []
      const onB: number[] = []
      await pair.a.subscribe(t, (p) => onA.push(p.n))
      await pair.b.subscribe(t, (p) => onB.push(p.n))
      for (let n = 0; n < 50; n++) await pair.a.publish(t, { n })
      await until(() => onA.length === 50 && onB.length === 50, 3000, '50 events on both instances')
      const expected = Array.from({ length: 50 }, (_, n) => n)
      expect(onA).toEqual(expected)
      expect(onB).toEqual(expected)
    })

    test('topics are apart; unsubscribe stops delivery and is idempotent; a connected bus is hearing', async () => {
      expect(pair.a.hearing && pair.b.hearing).toBe(true)
      const t1 = fresh<string>()
      const t2 = fresh<string>()
      const got: string[] = []
      const off = await pair.b.subscribe(t1, (p) => got.push(`1:${p}`))
      await pair.b.subscribe(t2, (p) => got.push(`2:${p}`))
      await pair.a.publish(t1, 'x')
      await pair.a.publish(t2, 'y')
      await until(() => got.length === 2, 3000, 'two events')
      off()
      off()
      await pair.a.publish(t1, 'gone')
      await pair.a.publish(t2, 'z')
      await until(() => got.length === 3, 3000, 'the third event')
      expect(got).toEqual(['1:x', '2:y', '2:z'])
    })

    test('a handler that throws does not starve the others', async () => {
      const t = fresh<number>()
      const got: number[] = []
      const errors = console.error
      console.error = () => {}
      try {
        await pair.b.subscribe(t, () => {
          throw new Error('boom')
        })
        await pair.b.subscribe(t, (p) => got.push(p))
        await pair.a.publish(t, 7)
        await until(() => got.length === 1, 3000, 'the second handler')
      } finally {
        console.error = errors
      }
      expect(got).toEqual([7])
    })
  })
}
