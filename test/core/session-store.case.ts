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

/** A session as an initialize would create it. */
export const session = (id: string, extra: Partial<SessionState> = {}): SessionState => ({
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

    test('create with limits makes room in the owner\'s sessions: the least recently touched goes, on every instance', async () => {
      const owner = `o-${id()}`
      const limits = { perOwner: 3, perAddress: 100 }
      const ids = [id(), id(), id()]
      // Apart in time: a store may order equal idle deadlines any way it likes.
      for (const sid of ids) {
        expect(await pair.a.create(session(sid, { ownerId: owner }), limits)).toEqual([])
        await sleep(3)
      }
      // The oldest is touched: the second becomes the least recently used.
      await pair.b.touch(ids[0]!)
      const other = session(id(), { ownerId: `other-${id()}` })
      expect(await pair.b.create(other, limits)).toEqual([])
      const fourth = id()
      expect(await pair.b.create(session(fourth, { ownerId: owner }), limits)).toEqual([ids[1]!])
      await until(async () => (await pair.a.get(ids[1]!)) === undefined, 100, 'the eviction on the other instance')
      for (const kept of [ids[0]!, ids[2]!, fourth, other.id]) expect(await pair.a.get(kept)).toBeDefined()
      // Limits bind only the creates that pass them.
      expect(await pair.a.create(session(id(), { ownerId: owner }))).toEqual([])
    })

    test('create with limits counts a client address across owners; sessions without an address count for none', async () => {
      const address = `2001:db8:${Math.floor(Math.random() * 1e4)}::/64`
      const limits = { perOwner: 100, perAddress: 2 }
      const a1 = session(id(), { ownerId: `u1-${id()}`, clientAddress: address })
      const a2 = session(id(), { ownerId: `u2-${id()}`, clientAddress: address })
      await pair.a.create(a1, limits)
      await sleep(3)
      await pair.a.create(a2, limits)
      expect(await pair.b.create(session(id(), { ownerId: `u3-${id()}` }), limits)).toEqual([])
      expect(await pair.b.create(session(id(), { ownerId: `u3-${id()}`, clientAddress: address }), limits)).toEqual([a1.id])
    })

    test('expired and deleted sessions do not count toward a limit', async () => {
      const owner = `o-${id()}`
      const limits = { perOwner: 2, perAddress: 100 }
      const gone = session(id(), { ownerId: owner })
      const idle = session(id(), { ownerId: owner })
      await pair.a.create(gone, limits)
      await pair.a.create(idle, limits)
      await pair.a.delete(gone.id)
      expect(await pair.b.create(session(id(), { ownerId: owner }), limits)).toEqual([])
      await sleep(pair.ttlMs * 1.5)
      expect(await pair.b.create(session(id(), { ownerId: owner }), limits)).toEqual([])
      expect(await pair.b.create(session(id(), { ownerId: owner }), limits)).toEqual([])
    })

    test('of concurrent creates past a limit none overshoots it', async () => {
      const owner = `o-${id()}`
      const limits = { perOwner: 3, perAddress: 100 }
      const ids = Array.from({ length: 10 }, () => id())
      const evicted = (await Promise.all(ids.map((sid, i) => (i % 2 ? pair.a : pair.b).create(session(sid, { ownerId: owner }), limits)))).flat()
      expect(evicted).toHaveLength(7)
      const live = (await Promise.all(ids.map((sid) => pair.a.get(sid)))).filter(Boolean)
      expect(live).toHaveLength(3)
    })

    test('deleting by auth session forgets exactly the sessions it opened, once', async () => {
      const auth = `as-${id()}`
      const mine = [session(id(), { authSessionId: auth }), session(id(), { authSessionId: auth, transport: 'websocket' })]
      const others = [session(id(), { authSessionId: `as-${id()}` }), session(id())]
      for (const s of [...mine, ...others]) await pair.a.create(s)
      expect((await pair.b.deleteByAuthSession(auth)).sort()).toEqual(mine.map((s) => s.id).sort())
      expect(await pair.a.deleteByAuthSession(auth)).toEqual([])
      await until(async () => (await pair.a.get(mine[0]!.id)) === undefined, 100, 'the delete on the other instance')
      for (const s of others) expect(await pair.a.get(s.id)).toBeDefined()
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
