/**
 * The sealed requestState of 2026-07-28 multi-round-trip requests: it opens only under the secret
 * it was sealed with, any change to it is detected, and the digest it binds ignores key order.
 */
import { expect, test } from 'bun:test'
import { RequestStateSealer, digestOf, type RequestStatePayload } from '../../src/core/request-state.ts'

const payload: RequestStatePayload = { p: 'alice', m: 'tools/call', t: 'deploy', d: digestOf({ env: 'prod' }), exp: 1_000, a: { confirm: { action: 'accept', content: { ok: true } } } }

test('a sealed state opens to what was sealed, and carries nothing readable', () => {
  const sealer = new RequestStateSealer('s'.repeat(40))
  const state = sealer.seal(payload)
  expect(state).toMatch(/^rs1\.[\w-]{16}\.[\w-]+$/)
  expect(sealer.open(state)).toEqual(payload)
  expect(Buffer.from(state.split('.')[2]!, 'base64url').toString('latin1')).not.toContain('alice')
  // A fresh IV each time: the same payload never seals to the same string.
  expect(sealer.seal(payload)).not.toBe(state)
})

test('another secret, any altered character, a truncation or an extension does not open', () => {
  const sealer = new RequestStateSealer('s'.repeat(40))
  const state = sealer.seal(payload)
  expect(new RequestStateSealer('t'.repeat(40)).open(state)).toBeUndefined()
  for (let i = 0; i < state.length; i++) {
    if (state[i] === '.') continue
    const altered = state.slice(0, i) + (state[i] === 'A' ? 'B' : 'A') + state.slice(i + 1)
    expect({ i, opened: sealer.open(altered) }).toEqual({ i, opened: undefined })
  }
  for (const bad of [state.slice(0, -1), `${state}A`, `${state}.x`, state.replace('rs1', 'rs2'), '', 'rs1..', 'rs1.a.b']) expect(sealer.open(bad)).toBeUndefined()
})

test('the bound digest is the same whatever order a client writes the keys in, and differs for other values', () => {
  expect(digestOf({ a: 1, b: { c: [1, { d: 2, e: 3 }] } })).toBe(digestOf({ b: { c: [1, { e: 3, d: 2 }] }, a: 1 }))
  expect(digestOf({ a: 1 })).not.toBe(digestOf({ a: 2 }))
  expect(digestOf({ a: [1, 2] })).not.toBe(digestOf({ a: [2, 1] }))
})
