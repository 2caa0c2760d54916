/**
 * Rate limits: the per-request and per-tool-call budgets count in this process's memory (no store
 * write per request; per instance until a shared store exists), the sign-in budgets in the store
 * (shared and durable). The memory counters keep fixed windows and forget ended ones.
 */
import { expect, test } from 'bun:test'
import { AuditLog } from '../../src/auth/audit.ts'
import { createAuth } from '../../src/auth/auth.ts'
import { MemoryCounters, RateLimiter } from '../../src/auth/rate-limit.ts'
import type { RegisteredTool } from '../../src/core/registry.ts'
import { ConsoleMailer } from '../../src/mail/console-mailer.ts'
import { MemoryAuthStores } from '../../src/stores/memory/memory-auth-stores.ts'
import { testAuthSettings } from '../_utils/auth-settings.ts'

test('memory counters count within a window and restart after it, per key', () => {
  const c = new MemoryCounters()
  expect(c.hit('k', 100, 1000)).toEqual({ count: 1, resetAt: 1100 })
  expect(c.hit('k', 100, 1050)).toEqual({ count: 2, resetAt: 1100 })
  expect(c.hit('other', 100, 1050)).toEqual({ count: 1, resetAt: 1150 })
  expect(c.hit('k', 100, 1100)).toEqual({ count: 1, resetAt: 1200 })
  expect(c.hit('k', 100, 1199)).toEqual({ count: 2, resetAt: 1200 })
  expect(c.hit('k', 100, 1199, 10)).toEqual({ count: 12, resetAt: 1200 })
})

test('memory counters forget ended windows, so memory follows the keys live in one window', () => {
  const c = new MemoryCounters()
  // 100 000 addresses, each seen once, a window of 1 s apart: the old ones are swept out.
  for (let i = 0; i < 100_000; i++) c.hit(`requests:10.0.${i >> 8}.${i & 255}`, 1000, Math.floor(i / 1000) * 1000)
  expect(c.size).toBeLessThan(10_000)
  // Live keys are never dropped: 5 000 in one window all keep counting.
  const live = new MemoryCounters()
  for (let round = 1; round <= 3; round++) for (let i = 0; i < 5000; i++) expect(live.hit(`k${i}`, 60_000, round).count).toBe(round)
  expect(live.size).toBe(5000)
})

test('the limiter answers the seconds to wait once over the limit', async () => {
  let now = 10_000
  const limiter = new RateLimiter(new MemoryCounters(), () => now)
  const limit = { max: 2, windowMs: 60_000 }
  expect(await limiter.take('tools', 'u1', limit)).toBeUndefined()
  expect(await limiter.take('tools', 'u1', limit)).toBeUndefined()
  expect(await limiter.take('tools', 'u1', limit)).toBe(60)
  expect(await limiter.take('tools', 'u2', limit)).toBeUndefined()
  now += 59_500
  expect(await limiter.take('tools', 'u1', limit)).toBe(1)
  now += 500
  expect(await limiter.take('tools', 'u1', limit)).toBeUndefined()
  // A batch counts each of its messages.
  expect(await limiter.take('requests', 'a', { max: 10, windowMs: 1000 }, 10)).toBeUndefined()
  expect(await limiter.take('requests', 'a', { max: 10, windowMs: 1000 }, 1)).toBe(1)
})

const limit = (max: number) => ({ max, windowMs: 60_000 })
const settings = testAuthSettings({ loginPerEmail: limit(5), loginPerMailbox: limit(30), authPerAddress: limit(100), toolCallsPerUser: limit(3), requestsPerAddress: limit(4) })

test('requests and tool calls are counted in memory, not in the store; sign-in budgets in the store', async () => {
  const stores = new MemoryAuthStores()
  const hits: string[] = []
  const hit = stores.counters.hit.bind(stores.counters)
  stores.counters.hit = (key, windowMs, now, weight) => {
    hits.push(key)
    return hit(key, windowMs, now, weight)
  }
  const audit = new AuditLog({ store: stores.audit, now: Date.now, tierOf: () => 'public' })
  const auth = createAuth({ settings, stores, mailer: new ConsoleMailer(), audit, publicUrl: () => 'http://127.0.0.1:1', addressOf: () => '192.0.2.1', publishRevoked: () => {} })
  const user = await stores.users.create({ email: 'a@example.com', tier: 'user', now: Date.now() })
  const { token } = await auth.sessions.start(user)
  const request = () => new Request('http://127.0.0.1:1/mcp', { method: 'POST', headers: { authorization: `Bearer ${token}` } })
  const tool = { tier: 'public', definition: { name: 'echo' } } as unknown as RegisteredTool

  const results: string[] = []
  for (let i = 0; i < 5; i++) {
    const p = await auth.bearer.authenticate(request())
    if (!('id' in p)) {
      results.push(`auth ${p.status}`)
      continue
    }
    const denied = await auth.policy.check(p, tool)
    results.push(denied ? `tool ${denied.code}` : 'ok')
  }
  // 4 requests per address, 3 tool calls per user: the limits hold, counted in memory.
  expect(results).toEqual(['ok', 'ok', 'ok', 'tool -32029', 'auth 429'])
  expect(hits).toEqual([])
  expect(await auth.limiter.take('login', 'a@example.com', settings.rateLimits.loginPerEmail)).toBeUndefined()
  expect(hits).toEqual(['login:a@example.com'])
})
