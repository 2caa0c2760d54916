/**
 * Pagination cursors: opaque, signed, bound to one list, and rejected with -32602 when tampered.
 */
import { expect, test } from 'bun:test'
import { Paginator } from '../../src/core/cursor.ts'
import { McpError } from '../../src/core/errors.ts'

const SECRET = 'a-test-secret-that-is-long-enough-0123456789'
const items = ['a', 'b', 'c', 'd', 'e']

function rejection(fn: () => unknown): McpError {
  try {
    fn()
  } catch (err) {
    if (err instanceof McpError) return err
    throw err
  }
  throw new Error('expected the cursor to be rejected')
}

test('following nextCursor walks every item once, in order, and the last page has no cursor', () => {
  const p = new Paginator(SECRET, 2)
  const seen: string[] = []
  let cursor: string | undefined
  let pages = 0
  do {
    const page = p.page('tools', items, cursor)
    seen.push(...page.items)
    cursor = page.nextCursor
    pages++
  } while (cursor)
  expect(seen).toEqual(items)
  expect(pages).toBe(3)
})

test('a list that fits in one page has no nextCursor, and an empty list is one empty page', () => {
  const p = new Paginator(SECRET, 5)
  expect(p.page('tools', items, undefined)).toEqual({ items })
  expect(p.page('tools', [], undefined)).toEqual({ items: [] })
})

test('a cursor reveals no offset in plain text and is URL-safe', () => {
  const { nextCursor } = new Paginator(SECRET, 2).page('tools', items, undefined)
  expect(nextCursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/)
  expect(nextCursor).not.toContain('"o"')
})

test('a cursor with a changed signature, a changed body or a forged offset is -32602 Invalid cursor', () => {
  const p = new Paginator(SECRET, 2)
  const cursor = p.page('tools', items, undefined).nextCursor!
  const [body, mac] = cursor.split('.') as [string, string]
  const flip = (s: string) => s.slice(0, -1) + (s.endsWith('A') ? 'B' : 'A')
  const forged = Buffer.from(JSON.stringify({ l: 'tools', o: 4 })).toString('base64url')
  for (const bad of [`${body}.${flip(mac)}`, `${flip(body)}.${mac}`, `${forged}.${mac}`, body, `${body}.`, `.${mac}`, '', 'x.y.z', `${body}.${mac}.extra`]) {
    const err = rejection(() => p.page('tools', items, bad))
    expect({ bad, code: err.code }).toEqual({ bad, code: -32602 })
    expect(err.message).toBe('Invalid cursor: pass back the nextCursor value exactly as received')
  }
})

test('a cursor that is not a string is -32602', () => {
  const p = new Paginator(SECRET, 2)
  for (const bad of [0, 1, null, {}, ['a']]) expect(rejection(() => p.page('tools', items, bad)).code).toBe(-32602)
})

test('a cursor signed with another secret or issued for another list is rejected', () => {
  const cursor = new Paginator(SECRET, 2).page('tools', items, undefined).nextCursor!
  expect(rejection(() => new Paginator(`${SECRET}-other`, 2).page('tools', items, cursor)).code).toBe(-32602)
  expect(rejection(() => new Paginator(SECRET, 2).page('prompts', items, cursor)).code).toBe(-32602)
})

test('a validly signed cursor with a bad offset is still rejected', async () => {
  // Sign bodies the way the paginator does, to prove the offset itself is checked.
  const { createHmac } = await import('node:crypto')
  const sign = (o: unknown) => {
    const body = Buffer.from(JSON.stringify({ l: 'tools', o })).toString('base64url')
    return `${body}.${createHmac('sha256', SECRET).update(body).digest('base64url').slice(0, 22)}`
  }
  const p = new Paginator(SECRET, 2)
  expect(p.page('tools', items, sign(2)).items).toEqual(['c', 'd'])
  for (const o of [-1, 1.5, '2', null]) expect({ o, code: rejection(() => p.page('tools', items, sign(o))).code }).toEqual({ o, code: -32602 })
})
