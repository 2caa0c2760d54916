/**
 * The SessionStore contract: every implementation runs it, with two handles on one backend (two
 * instances; a memory store passes the same object twice). `ttlMs` is the store's idle timeout.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { SessionStore } from '../../src/core/session-store.ts'
import type { SessionState } from '../../src/core/session.ts'
import { sleep, until } from '../_utils/wait.ts'

export interface SessionStorePair {
  a: SessionStore
  b: SessionStore
  ttlMs: number
  close(): Promise<void>
}

const session = (id: string, extra: Partial<SessionState> = {}): SessionState => ({
  id,
  protocolVersion: '2025-11-25',
  clientInfo: { name: 'test', version: '1' },
  clientCapabilities: { sampling: {} },
  initialized: false,
  ownerId: 'alice',
  transport: 'streamable-http',
  createdAt: 1,
  ...extra,
})

export function runSessionStoreContract(name: string, make: () => Promise<SessionStorePair>): void {
  describe(`${name} (SessionStore contract)`, () => {
    let pair: SessionStorePair
    beforeEach(async () => {
      pair = await make()
    })
    afterEach(() => pair.close())
    const id = () => crypto.randomUUID()

    test('a created session is found on every instance, as a copy the caller may change', async () => {
      const s = session(id())
      await pair.a.create(s)
      const found = await pair.b.get(s.id)
      expect(found).toEqual(s)
      found!.ownerId = 'mallory'
      found!.clientCapabilities.sampling = undefined
      expect(await pair.b.get(s.id)).toEqual(s)
      expect(await pair.a.get(id())).toBeUndefined()
    })

    test('update patches what another instance reads next (after its cache, if any, is told)', async () => {
      const s = session(id())
      await pair.a.create(s)
      expect((await pair.b.get(s.id))?.initialized).toBe(false)
      await pair.a.update(s.id, { initialized: true, logLevel: 'warning' })
      await until(async () => (await pair.b.get(s.id))?.initialized === true, 2000, 'the update on the other instance')
      expect(await pair.b.get(s.id)).toEqual({ ...s, initialized: true, logLevel: 'warning' })
    })

    test('delete is idempotent and seen by every instance; its subscriptions go with it', async () => {
      const s = session(id())
      const uri = `test://${id()}`
      await pair.a.create(s)
      await pair.a.addSubscription(s.id, uri)
      expect(await pair.b.get(s.id)).toBeDefined()
      expect(await pair.b.delete(s.id)).toBe(true)
      expect(await pair.b.delete(s.id)).toBe(false)
      // Another instance that read it before learns of the delete within 100 ms.
      await until(async () => (await pair.a.get(s.id)) === undefined, 100, 'the delete on the other instance')
      expect(await pair.a.subscribers(uri)).toEqual([])
    })

    test('subscriptions are kept per session and listed per resource on any instance', async () => {
      const s1 = session(id())
      const s2 = session(id())
      const uri = `test://${id()}`
      await pair.a.create(s1)
      await pair.a.create(s2)
      await pair.a.addSubscription(s1.id, uri)
      await pair.b.addSubscription(s2.id, uri)
      await pair.b.addSubscription(s2.id, uri)
      expect((await pair.b.subscribers(uri)).sort()).toEqual([s1.id, s2.id].sort())
      await pair.a.removeSubscription(s2.id, uri)
      expect(await pair.b.subscribers(uri)).toEqual([s1.id])
      // A session that does not exist subscribes to nothing.
      await pair.a.addSubscription(id(), uri)
      expect(await pair.b.subscribers(uri)).toEqual([s1.id])
    })

    test('a kept reply is taken once, on any instance', async () => {
      const s = session(id())
      await pair.a.create(s)
      const response = { jsonrpc: '2.0' as const, id: 'inst.1', result: { action: 'accept' } }
      await pair.a.putReply(s.id, 'inst.1', response, 60_000)
      expect(await pair.b.takeReply(s.id, 'inst.1')).toEqual(response)
      expect(await pair.a.takeReply(s.id, 'inst.1')).toBeUndefined()
      expect(await pair.a.takeReply(s.id, 'inst.2')).toBeUndefined()
    })

    test('a session idles out after its TTL; touching (or get with touch) keeps it alive', async () => {
      const touched = session(id())
      const readTouching = session(id())
      const idle = session(id())
      for (const s of [touched, readTouching, idle]) await pair.a.create(s)
      const step = pair.ttlMs / 3
      for (let t = 0; t < 5; t++) {
        await sleep(step)
        await pair.b.touch(touched.id)
        await pair.b.get(readTouching.id, { touch: true })
      }
      expect(await pair.a.get(idle.id)).toBeUndefined()
      expect(await pair.a.get(touched.id)).toBeDefined()
      expect(await pair.a.get(readTouching.id)).toBeDefined()
      await sleep(pair.ttlMs * 1.5)
      expect(await pair.b.get(touched.id)).toBeUndefined()
      expect(await pair.a.get(readTouching.id)).toBeUndefined()
    })
  })
}
