/**
 * The audit log: one JSON line per record (never split by input), a digest of the arguments instead
 * of the arguments, depth-capped so hostile nesting cannot make recording throw.
 */
import { expect, test } from 'bun:test'
import { AuditLog, argumentsDigest } from '../../src/auth/audit.ts'
import { MemoryAuthStore } from '../../src/store/memory-auth-store.ts'

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
  const store = new MemoryAuthStore()
  const lines: string[] = []
  const log = new AuditLog({ store, now: () => Date.UTC(2026, 0, 2, 3, 4, 5), writeLine: (l) => lines.push(l), tierOf: () => 'user' })
  log.onToolCall({
    tool: 'echo',
    principal,
    sessionId: 'mcp-1',
    transport: 'rest',
    arguments: { text: 'sk-secret-value\r\n{"audit":"forged"}' },
    outcome: 'ok',
    latencyMs: 1.23456,
  })
  expect(lines).toHaveLength(1)
  expect(lines[0]).not.toContain('\n')
  expect(lines[0]).not.toContain('sk-secret-value')
  const line = JSON.parse(lines[0]!)
  expect(line).toMatchObject({ audit: '2026-01-02T03:04:05.000Z', kind: 'tool_call', outcome: 'ok', userId: 'u1', email: 'ada@example.com', tier: 'user', tool: 'echo', toolTier: 'user', transport: 'rest', latencyMs: 1.23 })
  expect(line.argsDigest).toBe(argumentsDigest({ text: 'sk-secret-value\r\n{"audit":"forged"}' }))
  const [stored] = await store.queryAudit({ limit: 10 })
  expect(stored).toMatchObject({ kind: 'tool_call', tool: 'echo', argsDigest: line.argsDigest })
})

test('a failing store does not make recording throw, and details are capped', async () => {
  const store = new MemoryAuthStore()
  store.appendAudit = () => Promise.reject(new Error('disk full'))
  const lines: string[] = []
  const log = new AuditLog({ store, now: Date.now, writeLine: (l) => lines.push(l), tierOf: () => undefined })
  const errors: unknown[] = []
  const original = console.error
  console.error = (...a: unknown[]) => void errors.push(a)
  try {
    log.record({ kind: 'login_failed', outcome: 'denied', detail: 'x'.repeat(2000) })
    await Bun.sleep(1)
  } finally {
    console.error = original
  }
  expect(JSON.parse(lines[0]!).detail.length).toBeLessThan(600)
  expect(String(errors[0])).toContain('could not store the audit record')
})
