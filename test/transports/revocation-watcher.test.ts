/**
 * RevocationWatcher: a revocation on the bus closes every tracked connection of that auth session
 * and no other; the sweep closes connections of sessions that ended without a bus event.
 */
import { expect, test } from 'bun:test'
import { MemoryBus } from '../../src/stores/memory/memory-bus.ts'
import { RevocationWatcher } from '../../src/transports/revocation-watcher.ts'

const p = (authSessionId?: string) => ({ id: 'u', tier: 'user' as const, authSessionId })

test('a published revocation closes that session\'s connections only; untracked ones are forgotten', async () => {
  const bus = new MemoryBus()
  const w = new RevocationWatcher({ bus })
  await w.start()
  const closed: string[] = []
  w.track(p('a'), () => closed.push('a1'))
  w.track(p('a'), () => closed.push('a2'))
  const untrack = w.track(p('b'), () => closed.push('b1'))
  w.track(p(undefined), () => closed.push('anonymous'))
  expect(w.trackedSessions).toBe(2)
  RevocationWatcher.publish(bus, ['a'])
  await Bun.sleep(1)
  expect(closed.sort()).toEqual(['a1', 'a2'])
  untrack()
  expect(w.trackedSessions).toBe(0)
  RevocationWatcher.publish(bus, ['b'])
  await Bun.sleep(1)
  expect(closed).toHaveLength(2)
  w.close()
})

test('the sweep closes connections whose session is no longer active', async () => {
  const bus = new MemoryBus()
  const active = new Set(['keep', 'drop'])
  const w = new RevocationWatcher({ bus, isActive: async (id) => active.has(id), sweepMs: 20 })
  await w.start()
  const closed: string[] = []
  w.track(p('keep'), () => closed.push('keep'))
  w.track(p('drop'), () => closed.push('drop'))
  active.delete('drop')
  const deadline = Date.now() + 2000
  while (closed.length === 0 && Date.now() < deadline) await Bun.sleep(10)
  expect(closed).toEqual(['drop'])
  w.close()
})
