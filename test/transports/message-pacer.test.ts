/**
 * MessagePacer: past a slice of event-loop time in one turn, messages wait and are worked through
 * in later turns, each connection's in order, connections in turn, with their bytes bounded. The
 * clock is the test's, so slices end exactly where the test says.
 */
import { expect, test } from 'bun:test'
import { MessagePacer } from '../../src/transports/message-pacer.ts'

const turn = () => new Promise((resolve) => setImmediate(resolve))

/** A pacer whose every handled message costs `cost` ms of the test's clock. */
function pacer(opts: { sliceMs?: number; maxQueuedBytes?: number; cost?: number; handle?: (conn: string, data: string) => void | Promise<void> } = {}) {
  let clock = 0
  const handled: string[] = []
  const p = new MessagePacer<string>({
    sliceMs: opts.sliceMs ?? 4,
    maxQueuedBytes: opts.maxQueuedBytes ?? 1 << 20,
    now: () => clock,
    handle: (conn, data) => {
      clock += opts.cost ?? 1
      handled.push(`${conn}:${data}`)
      return opts.handle?.(conn, data)
    },
  })
  return { p, handled }
}

test('within a slice messages are handled at once; past it they wait for later turns, in order', async () => {
  const { p, handled } = pacer({ sliceMs: 4, cost: 1 })
  for (let i = 1; i <= 10; i++) expect(p.offer('a', String(i))).toBe(true)
  // 0, 1, 2, 3 ms into the slice: four handled now, the other six wait.
  expect(handled).toEqual(['a:1', 'a:2', 'a:3', 'a:4'])
  expect(p.waiting).toBe(6)
  await turn()
  expect(handled).toEqual(['a:1', 'a:2', 'a:3', 'a:4', 'a:5', 'a:6', 'a:7', 'a:8'])
  await turn()
  expect(handled.slice(8)).toEqual(['a:9', 'a:10'])
  expect(p.waiting).toBe(0)
})

test('a connection with messages waiting queues the next ones behind them, even in a fresh slice', async () => {
  const { p, handled } = pacer({ sliceMs: 2, cost: 1 })
  p.offer('a', '1')
  p.offer('a', '2')
  p.offer('a', '3') // waits: the slice is spent
  await turn() // the drain handles 3; a new turn opens a fresh slice
  p.offer('a', '4')
  p.offer('a', '5')
  p.offer('a', '6') // waits
  p.offer('a', '7')
  await turn()
  await turn()
  expect(handled).toEqual(['a:1', 'a:2', 'a:3', 'a:4', 'a:5', 'a:6', 'a:7'])
})

test('waiting connections take turns, one message each', async () => {
  const { p, handled } = pacer({ sliceMs: 1, cost: 1 })
  p.offer('a', '1') // handled: spends the slice
  for (const m of ['2', '3', '4']) p.offer('a', m)
  for (const m of ['1', '2']) p.offer('b', m)
  for (let i = 0; i < 6; i++) await turn()
  expect(handled).toEqual(['a:1', 'a:2', 'b:1', 'a:3', 'b:2', 'a:4'])
})

test('a handler that finishes later counts against the slice it started in', async () => {
  let clock = 0
  const handled: string[] = []
  const p = new MessagePacer<string>({
    sliceMs: 3,
    maxQueuedBytes: 1 << 20,
    now: () => clock,
    handle: async (conn, data) => {
      await Promise.resolve()
      clock += 2 // the work happens after the handler returned its promise
      handled.push(`${conn}:${data}`)
    },
  })
  // Bun calls the message handler once per frame and runs microtasks in between.
  const frame = async (data: string) => {
    p.offer('a', data)
    await Promise.resolve()
    await Promise.resolve()
  }
  await frame('1') // at 0 ms: handled, and its work takes the clock to 2 ms
  await frame('2') // at 2 ms of a 3 ms slice: handled; the clock reaches 4 ms
  for (const m of ['3', '4', '5']) await frame(m) // past the slice: they wait
  expect(handled).toEqual(['a:1', 'a:2'])
  await turn()
  // The next turn's drain awaited '3' (2 ms) and '4' (4 ms: past the slice) and left '5'.
  expect(handled).toEqual(['a:1', 'a:2', 'a:3', 'a:4'])
  await turn()
  expect(handled).toEqual(['a:1', 'a:2', 'a:3', 'a:4', 'a:5'])
})

test('messages past maxQueuedBytes are refused and not queued; one message always fits', async () => {
  const { p, handled } = pacer({ sliceMs: 1, cost: 1, maxQueuedBytes: 10 })
  p.offer('a', 'x') // handled
  expect(p.offer('a', 'a'.repeat(50))).toBe(true) // alone in the queue: accepted whatever its size
  expect(p.offer('a', 'b')).toBe(false)
  expect(p.waiting).toBe(1)
  await turn()
  p.offer('a', 'y') // a new turn: handled, spending its slice
  expect(p.offer('a', 'c'.repeat(6))).toBe(true)
  expect(p.offer('a', 'd'.repeat(4))).toBe(true) // 6 + 4 = 10 bytes waiting: still within the bound
  expect(p.offer('a', 'e')).toBe(false)
  await turn()
  await turn()
  expect(handled).toEqual(['a:x', `a:${'a'.repeat(50)}`, 'a:y', `a:${'c'.repeat(6)}`, `a:${'d'.repeat(4)}`])
})

test('forget drops what a closed connection had waiting', async () => {
  const { p, handled } = pacer({ sliceMs: 1, cost: 1 })
  p.offer('a', '1')
  p.offer('a', '2')
  p.offer('b', '1')
  p.forget('a')
  await turn()
  await turn()
  expect(handled).toEqual(['a:1', 'b:1'])
  expect(p.waiting).toBe(0)
})
