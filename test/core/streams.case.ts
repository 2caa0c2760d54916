/**
 * The Streams contract: every implementation runs it. `make` returns two handles on one backend
 * (two instances sharing a store; a memory implementation passes the same object twice), so the
 * cases also say what must hold across instances.
 */
import { afterEach, beforeEach, describe, expect, test } from 'bun:test'
import type { JsonRpcMessage } from '../../src/core/jsonrpc.ts'
import { STANDALONE_STREAM, type StreamSink, type Streams } from '../../src/core/streams.ts'
import { until } from '../_utils/wait.ts'

export interface StreamsPair {
  a: Streams
  b: Streams
  /** The byte bound of a session's log the pair was made with. */
  logMaxBytes: number
  close(): Promise<void>
}

const note = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n } })

/** A sink that records what it is told. */
class Recorder implements StreamSink {
  position: number | undefined
  readonly events: { seq: number; n: unknown }[] = []
  ended = false
  wasTakenOver = false
  ready(position: number): void {
    this.position = position
  }
  event(seq: number, message: JsonRpcMessage): void {
    this.events.push({ seq, n: (message as { params?: { data?: unknown } }).params?.data })
  }
  end(): void {
    this.ended = true
  }
  takenOver(): void {
    this.wasTakenOver = true
  }
}

const recorder = () => new Recorder()
const ns = (r: Recorder) => r.events.map((e) => e.n)

export function runStreamsContract(name: string, make: () => Promise<StreamsPair>): void {
  describe(`${name} (Streams contract)`, () => {
    let pair: StreamsPair
    let sessionId: string
    beforeEach(async () => {
      pair = await make()
      sessionId = crypto.randomUUID()
    })
    afterEach(() => pair.close())
    const ref = (streamId: string) => ({ sessionId, streamId })

    test("a session's log is bounded in bytes: the oldest go, the newest always stays, delivery is whole", async () => {
      const { a, b, logMaxBytes } = pair
      const big = (n: number): JsonRpcMessage => ({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: n, pad: 'x'.repeat(Math.ceil(logMaxBytes / 4)) } })
      const live = recorder()
      await b.attach(ref(STANDALONE_STREAM), 'live', live)
      for (let n = 1; n <= 10; n++) await a.write(ref(STANDALONE_STREAM), [big(n)])
      await until(() => live.events.length === 10, 2000, 'every live event')
      const replay = recorder()
      await b.attach(ref(STANDALONE_STREAM), 0, replay)
      const kept = ns(replay)
      expect(kept.length).toBeGreaterThanOrEqual(1)
      expect(kept.length).toBeLessThanOrEqual(4)
      expect(kept.at(-1)).toBe(10)
      // One event larger than the whole bound is still kept, alone.
      const huge: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 11, pad: 'x'.repeat(logMaxBytes * 2) } }
      await a.write(ref(STANDALONE_STREAM), [huge])
      const after = recorder()
      await a.attach(ref(STANDALONE_STREAM), 0, after)
      expect(ns(after)).toEqual([11])
    })

    test('a write is delivered live to the follower, on another instance too, and replayed after a position', async () => {
      const { a, b } = pair
      const live = recorder()
      await b.attach(ref(STANDALONE_STREAM), 'live', live)
      expect(live.position).toBe(0)
      const s1 = await a.write(ref(STANDALONE_STREAM), [note(1)])
      const s2 = await a.write(ref(STANDALONE_STREAM), [note(2), note(3)])
      expect(s1).toBeGreaterThan(0)
      expect(s2).toBe(s1! + 2)
      await until(() => live.events.length === 3, 3000, 'three live events')
      expect(live.events).toEqual([{ seq: s1!, n: 1 }, { seq: s1! + 1, n: 2 }, { seq: s2!, n: 3 }])
      const replay = recorder()
      await a.attach(ref(STANDALONE_STREAM), s1!, replay)
      expect(replay.position).toBe(s2)
      expect(ns(replay)).toEqual([2, 3])
    })

    test('positions increase across the streams of a session; a replay holds its own stream only', async () => {
      const { a, b } = pair
      await a.open(ref('post-1'), { requestIds: [1] })
      await a.write(ref(STANDALONE_STREAM), [note(1)])
      await a.write(ref('post-1'), [note(2)])
      await b.write(ref(STANDALONE_STREAM), [note(3)])
      await b.write(ref('post-1'), [note(4)])
      const standalone = recorder()
      const post = recorder()
      await b.attach(ref(STANDALONE_STREAM), 0, standalone)
      await a.attach(ref('post-1'), 0, post)
      expect(ns(standalone)).toEqual([1, 3])
      expect(ns(post)).toEqual([2, 4])
      const seqs = [...standalone.events, ...post.events].map((e) => e.seq).sort((x, y) => x - y)
      expect(new Set(seqs).size).toBe(4)
      // A stream of another session is not found through this one.
      const other = { sessionId: crypto.randomUUID(), streamId: 'post-1' }
      expect(await a.attach(other, 0, recorder())).toBeUndefined()
    })

    test('an unknown stream is undefined; the standalone stream always exists', async () => {
      expect(await pair.a.attach(ref('never-opened'), 0, recorder())).toBeUndefined()
      const r = recorder()
      expect(await pair.b.attach(ref(STANDALONE_STREAM), 5, r)).toBeDefined()
      expect(r.events).toEqual([])
    })

    test('end: followers end after everything written before; later writes are dropped; a late attach replays then ends', async () => {
      const { a, b } = pair
      await a.open(ref('p'), { requestIds: ['r1'] })
      const follower = recorder()
      await b.attach(ref('p'), 0, follower)
      await a.write(ref('p'), [note(1)])
      await a.write(ref('p'), [note(2)])
      await a.end(ref('p'))
      await a.end(ref('p'))
      await until(() => follower.ended, 3000, 'the follower to end')
      expect(ns(follower)).toEqual([1, 2])
      expect(await b.write(ref('p'), [note(3)])).toBeUndefined()
      const late = recorder()
      await b.attach(ref('p'), 0, late)
      expect(ns(late)).toEqual([1, 2])
      expect(late.ended).toBe(true)
    })

    test('last attach wins: the first follower is taken over and gets nothing after it', async () => {
      const { a, b } = pair
      const first = recorder()
      await a.attach(ref(STANDALONE_STREAM), 'live', first)
      await a.write(ref(STANDALONE_STREAM), [note(1)])
      await until(() => first.events.length === 1, 3000, 'the first event')
      const second = recorder()
      await b.attach(ref(STANDALONE_STREAM), 'live', second)
      await until(() => first.wasTakenOver, 3000, 'the first follower to be taken over')
      await a.write(ref(STANDALONE_STREAM), [note(2)])
      await until(() => second.events.length === 1, 3000, 'the second follower to get the next event')
      expect(ns(first)).toEqual([1])
      expect(ns(second)).toEqual([2])
    })

    test('an ephemeral stream delivers live and keeps nothing to replay', async () => {
      const { a, b } = pair
      await a.open(ref(STANDALONE_STREAM), { ephemeral: true })
      const live = recorder()
      await b.attach(ref(STANDALONE_STREAM), 'live', live)
      await a.write(ref(STANDALONE_STREAM), [note(1), note(2)])
      await until(() => live.events.length === 2, 3000, 'two live events')
      const replay = recorder()
      await a.attach(ref(STANDALONE_STREAM), 0, replay)
      expect(replay.events).toEqual([])
    })

    test('detach stops delivery; dropping the session ends its followers and forgets its streams', async () => {
      const { a, b } = pair
      const detached = recorder()
      const attachment = await b.attach(ref(STANDALONE_STREAM), 'live', detached)
      attachment!.detach()
      attachment!.detach()
      await a.open(ref('p'))
      const follower = recorder()
      await b.attach(ref('p'), 'live', follower)
      await a.write(ref(STANDALONE_STREAM), [note(1)])
      await a.dropSession(sessionId)
      await a.dropSession(sessionId)
      await until(() => follower.ended, 3000, 'the follower to end')
      expect(detached.events).toEqual([])
      expect(await b.attach(ref('p'), 0, recorder())).toBeUndefined()
    })

    test('two writers on two instances: the follower gets every event once, in increasing order', async () => {
      const { a, b } = pair
      const follower = recorder()
      await b.attach(ref(STANDALONE_STREAM), 'live', follower)
      const writes: Promise<unknown>[] = []
      for (let i = 0; i < 200; i++) writes.push((i % 2 ? a : b).write(ref(STANDALONE_STREAM), [note(i)]))
      await Promise.all(writes)
      await until(() => follower.events.length === 200, 5000, 'all 200 events')
      const seqs = follower.events.map((e) => e.seq)
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true)
      expect(new Set(ns(follower)).size).toBe(200)
    })
  })
}
