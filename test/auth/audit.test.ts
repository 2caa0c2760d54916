/**
 * The audit log: one JSON line per record (never split by input), a digest of the arguments instead
 * of the arguments, depth-capped so hostile nesting cannot make recording throw. Records are queued
 * by the request path and written in batches (one store transaction, one stdout write each); a
 * query, a close or the flush timer writes them, so none is missed or lost on shutdown.
 */
import { expect, test } from 'bun:test'
import { createHash } from 'node:crypto'
import { AuditLog, argumentsDigest } from '../../src/auth/audit.ts'
import type { ToolCallEvent } from '../../src/core/ports.ts'
import type { AuditRecord } from '../../src/auth/stores.ts'
import { MAX_AUDIT, MemoryAuthStores } from '../../src/stores/memory/memory-auth-stores.ts'
import { SqliteAuthStores } from '../../src/stores/sqlite/sqlite-auth-stores.ts'

const principal = { id: 'u1', tier: 'user' as const, email: 'ada@example.com', authSessionId: 's1' }

test('the digest ignores key order and differs when a value differs', () => {
  expect(argumentsDigest({ a: 1, b: [1, { c: 'x' }] })).toBe(argumentsDigest({ b: [1, { c: 'x' }], a: 1 }))
  expect(argumentsDigest({ a: 1 })).not.toBe(argumentsDigest({ a: 2 }))
  expect(argumentsDigest({ a: 1 })).toMatch(/^[0-9a-f]{64}$/)
})

test('arguments nested 100 000 deep are digested without throwing', () => {
  let deep: unknown = 'leaf'
  for (let i = 0; i < 100_000; i++) deep = i % 2 ? { a: deep } : [deep]
  expect(argumentsDigest({ deep })).toMatch(/^[0-9a-f]{64}$/)
})

test('a tool call becomes one stored record and one JSON line, with a digest and no argument values', async () => {
  const store = new MemoryAuthStores().audit
  const lines: string[] = []
  const log = new AuditLog({ store, now: () => Date.UTC(2026, 0, 2, 3, 4, 5), writeLines: (l) => lines.push(...l), tierOf: () => 'user' })
  log.onToolCall({
    tool: 'echo',
    principal,
    sessionId: 'mcp-1',
    transport: 'rest',
    arguments: { text: 'sk-secret-value\r\n{"audit":"forged"}' },
    outcome: 'ok',
    latencyMs: 1.23456,
  })
  await log.flush()
  expect(lines).toHaveLength(1)
  expect(lines[0]).not.toContain('\n')
  expect(lines[0]).not.toContain('sk-secret-value')
  const line = JSON.parse(lines[0]!)
  expect(line).toMatchObject({ audit: '2026-01-02T03:04:05.000Z', kind: 'tool_call', outcome: 'ok', userId: 'u1', email: 'ada@example.com', tier: 'user', tool: 'echo', toolTier: 'user', transport: 'rest', latencyMs: 1.23 })
  expect(line.argsDigest).toBe(argumentsDigest({ text: 'sk-secret-value\r\n{"audit":"forged"}' }))
  const [stored] = await store.query({ limit: 10 })
  expect(stored).toMatchObject({ kind: 'tool_call', tool: 'echo', argsDigest: line.argsDigest })
})

test('a failing store does not make recording throw, and details are capped', async () => {
  const store = new MemoryAuthStores().audit
  store.append = () => Promise.reject(new Error('disk full'))
  const lines: string[] = []
  const log = new AuditLog({ store, now: Date.now, writeLines: (l) => lines.push(...l), tierOf: () => undefined })
  const errors: unknown[] = []
  const original = console.error
  console.error = (...a: unknown[]) => void errors.push(a)
  try {
    log.record({ kind: 'login_failed', outcome: 'denied', detail: 'x'.repeat(2000) })
    await log.flush()
  } finally {
    console.error = original
  }
  expect(JSON.parse(lines[0]!).detail.length).toBeLessThan(600)
  expect(String(errors[0])).toContain('could not store the audit record')
})

test('the digest is SHA-256 of the canonical JSON as UTF-8, as before (stored digests stay comparable)', () => {
  const sha = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex')
  expect(argumentsDigest({ text: 'hello' })).toBe(sha('{"text":"hello"}'))
  expect(argumentsDigest({ z: [1, null, true, { b: 'é🙂', a: '\u2028' }], a: -0.5 })).toBe(sha('{"a":-0.5,"z":[1,null,true,{"a":"\u2028","b":"é🙂"}]}'))
  expect(argumentsDigest({})).toBe(sha('{}'))
  expect(argumentsDigest({ s: '\ud800' })).toBe(sha('{"s":"\\ud800"}'))
})

const call = (i: number, outcome: ToolCallEvent['outcome'] = 'ok'): ToolCallEvent => ({
  tool: 'echo',
  principal,
  transport: 'streamable-http',
  arguments: { i },
  outcome,
  latencyMs: 0.5,
})

/** A memory audit store that remembers the size of every batch appended to it. */
function countingStore() {
  const store = new MemoryAuthStores().audit
  const batches: number[] = []
  const append = store.append.bind(store)
  store.append = (records) => {
    batches.push(records.length)
    return append(records)
  }
  return { store, batches }
}

test('the request path only queues; one batch is one store write and one stdout write', async () => {
  const { store, batches } = countingStore()
  const writes: string[][] = []
  const counted: string[] = []
  const log = new AuditLog({ store, now: Date.now, writeLines: (l) => writes.push(l), tierOf: () => 'public', onRecord: (r) => counted.push(`${r.kind}:${r.outcome}`), flushMs: 60_000 })
  for (let i = 0; i < 5; i++) log.onToolCall(call(i))
  log.record({ kind: 'login_failed', outcome: 'denied', email: 'x@example.com', detail: undefined })
  // Counted at once (metrics), written later.
  expect(counted).toEqual([...Array(5).fill('tool_call:ok'), 'login_failed:denied'])
  expect(log.queued).toBe(6)
  expect(batches).toEqual([])
  expect(writes).toEqual([])
  // A query writes what is queued first, so it sees every record made before it.
  const records = await log.query({ limit: 10 })
  expect(records.map((r) => r.kind)).toEqual(['login_failed', ...Array(5).fill('tool_call')])
  expect(records[0]).toEqual({ id: 6, at: expect.any(Number), kind: 'login_failed', outcome: 'denied', email: 'x@example.com' })
  expect(records.slice(1).map((r) => r.argsDigest)).toEqual([4, 3, 2, 1, 0].map((i) => argumentsDigest({ i })))
  expect(batches).toEqual([6])
  expect(writes).toHaveLength(1)
  expect(writes[0]!.map((l) => JSON.parse(l).kind)).toEqual([...Array(5).fill('tool_call'), 'login_failed'])
  expect(log.queued).toBe(0)
  await log.flush()
  expect(batches).toEqual([6])
})

test('queued records are written within flushMs without anyone asking', async () => {
  const store = new MemoryAuthStores().audit
  const log = new AuditLog({ store, now: Date.now, tierOf: () => 'public', flushMs: 5 })
  log.onToolCall(call(1))
  expect(await store.query({ limit: 5 })).toEqual([])
  await Bun.sleep(30)
  expect(log.queued).toBe(0)
  expect(await store.query({ limit: 5 })).toHaveLength(1)
})

test('a long queue is written at the next turn of the event loop, not after the timer', async () => {
  const store = new MemoryAuthStores().audit
  const log = new AuditLog({ store, now: Date.now, tierOf: () => 'public', flushMs: 60_000 })
  for (let i = 0; i < 1024; i++) log.onToolCall(call(i))
  await new Promise((resolve) => setImmediate(resolve))
  await Bun.sleep(0)
  expect(log.queued).toBe(0)
  expect(await store.query({ limit: 2000 })).toHaveLength(1024)
})

test('close writes what is queued, and records made afterwards are written at once', async () => {
  const store = new MemoryAuthStores().audit
  const log = new AuditLog({ store, now: Date.now, tierOf: () => 'public', flushMs: 60_000 })
  log.onToolCall(call(1))
  await log.close()
  expect(await store.query({ limit: 5 })).toHaveLength(1)
  log.record({ kind: 'logout', outcome: 'ok' })
  expect(log.queued).toBe(0)
  expect((await store.query({ limit: 5 }))[0]).toMatchObject({ kind: 'logout' })
})

test('the memory store keeps the newest records in a ring, newest first', async () => {
  const store = new MemoryAuthStores().audit
  const rec = (i: number): AuditRecord => ({ at: i, kind: i % 2 ? 'odd' : 'even', outcome: 'ok' })
  const total = MAX_AUDIT + 2_345
  for (let i = 1; i <= total; i += 1000) await store.append(Array.from({ length: Math.min(1000, total - i + 1) }, (_, k) => rec(i + k)))
  const all = await store.query({ limit: MAX_AUDIT + 10 })
  expect(all).toHaveLength(MAX_AUDIT)
  expect(all[0]).toEqual({ id: total, at: total, kind: total % 2 ? 'odd' : 'even', outcome: 'ok' })
  expect(all.at(-1)!.id).toBe(total - MAX_AUDIT + 1)
  expect(all.every((r, i) => r.id === total - i && r.at === r.id)).toBe(true)
  expect((await store.query({ limit: 3, kind: 'odd' })).map((r) => r.id)).toEqual(all.filter((r) => r.kind === 'odd').slice(0, 3).map((r) => r.id))
  expect(await store.query({ limit: 5, since: total - MAX_AUDIT - 5, until: total - MAX_AUDIT + 2 })).toEqual([
    { id: total - MAX_AUDIT + 2, at: total - MAX_AUDIT + 2, kind: (total - MAX_AUDIT + 2) % 2 ? 'odd' : 'even', outcome: 'ok' },
    { id: total - MAX_AUDIT + 1, at: total - MAX_AUDIT + 1, kind: (total - MAX_AUDIT + 1) % 2 ? 'odd' : 'even', outcome: 'ok' },
  ])
})

test('SQLite writes a batch all or nothing, without a sync, and goes back to FULL sync for everything else', async () => {
  const stores = new SqliteAuthStores(':memory:')
  const store = stores.audit
  expect(stores.synchronous).toBe(2)
  await store.append([{ at: 1, kind: 'a', outcome: 'ok' }, { at: 2, kind: 'b', outcome: 'ok' }])
  expect(stores.synchronous).toBe(2)
  // The second record breaks a NOT NULL column: the first is not kept either.
  const broken = [{ at: 3, kind: 'c', outcome: 'ok' }, { at: 4, kind: null, outcome: 'ok' }] as unknown as AuditRecord[]
  await expect(store.append(broken)).rejects.toThrow()
  expect(stores.synchronous).toBe(2)
  expect((await store.query({ limit: 10 })).map((r) => r.kind)).toEqual(['b', 'a'])
  await stores.close()
})

test('writable() says whether records can be stored, recovering once the store does', async () => {
  const store = new MemoryAuthStores().audit
  const log = new AuditLog({ store, now: Date.now, tierOf: () => 'admin' })
  const event = { tool: 'audit_query', principal, transport: 'rest', arguments: {}, outcome: 'ok' as const, latencyMs: 1 }
  log.onToolCall(event)
  expect(await log.writable()).toBe(true)
  const append = store.append.bind(store)
  store.append = async () => {
    throw new Error('disk full')
  }
  log.onToolCall(event)
  expect(await log.writable()).toBe(false)
  store.append = append
  log.onToolCall(event)
  expect(await log.writable()).toBe(true)
})

test('costly records (digests of large arguments) are built in slices, the event loop turning between them, and written together in order', async () => {
  const { store, batches } = countingStore()
  // A zero-length slice builds one record per slice, whatever the machine's speed.
  const log = new AuditLog({ store, now: Date.now, tierOf: () => 'public', flushMs: 60_000, buildSliceMs: 0 })
  const wide = Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`k${i}`, i]))
  for (let i = 0; i < 60; i++) log.onToolCall({ ...call(i), arguments: { ...wide, i } })
  let turns = 0
  let flushed = false
  const turn = () => {
    turns++
    if (!flushed) setImmediate(turn)
  }
  setImmediate(turn)
  await log.flush()
  flushed = true
  const stored = await store.query({ limit: 100 })
  expect(stored).toHaveLength(60)
  expect(stored.map((r) => r.argsDigest)).toEqual(Array.from({ length: 60 }, (_, i) => argumentsDigest({ ...wide, i })).reverse())
  // Other work ran between the slices (one record each), and the store was written once.
  expect(turns).toBeGreaterThanOrEqual(50)
  expect(batches).toEqual([60])
})
