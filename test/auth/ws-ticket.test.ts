/**
 * WebSocket tickets on a fake clock: the 30 s lifetime to the millisecond, single use, and the
 * shapes that are refused before the store is asked (a JWT, a login token, anything not ours).
 */
import { expect, test } from 'bun:test'
import { LOGIN_TOKEN_PATTERN } from '../../src/auth/magic-link.ts'
import { WS_TICKET_PATTERN, WS_TICKET_TTL_MS, WsTickets } from '../../src/auth/ws-ticket.ts'
import { MemoryAuthStores } from '../../src/stores/memory/memory-auth-stores.ts'

test('a ticket lasts 30 s: redeemable once just before, not at the instant it expires', async () => {
  let now = 1_000_000
  const tickets = new WsTickets(new MemoryAuthStores().oneTimeTokens('ws_ticket'), WS_TICKET_TTL_MS, () => now)
  expect(WS_TICKET_TTL_MS).toBe(30_000)
  const a = await tickets.issue('session-a')
  const b = await tickets.issue('session-a')
  expect(a.expiresAt).toBe(1_030_000)
  now += 29_999
  expect(await tickets.redeem(a.ticket)).toBe('session-a')
  expect(await tickets.redeem(a.ticket)).toBeUndefined()
  now += 1
  expect(await tickets.redeem(b.ticket)).toBeUndefined()
})

test('tickets are 256 random bits behind wst_, never shaped like a login token or a JWT', async () => {
  const tickets = new WsTickets(new MemoryAuthStores().oneTimeTokens('ws_ticket'), WS_TICKET_TTL_MS, Date.now)
  const seen = new Set<string>()
  for (let i = 0; i < 100; i++) {
    const { ticket } = await tickets.issue('s')
    expect(ticket).toMatch(WS_TICKET_PATTERN)
    expect(ticket).not.toMatch(LOGIN_TOKEN_PATTERN)
    expect(ticket).not.toContain('.')
    seen.add(ticket)
  }
  expect(seen.size).toBe(100)
})

test('anything not shaped like a ticket is refused without a store lookup', async () => {
  const store = new MemoryAuthStores().oneTimeTokens('ws_ticket')
  let lookups = 0
  const consume = store.consume.bind(store)
  store.consume = (hash, now) => (lookups++, consume(hash, now))
  const tickets = new WsTickets(store, WS_TICKET_TTL_MS, Date.now)
  for (const bad of ['', 'wst_', 'A'.repeat(43), 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln', `wst_${'A'.repeat(42)}=`, `wst_${'A'.repeat(44)}`, `WST_${'A'.repeat(43)}`])
    expect(await tickets.redeem(bad)).toBeUndefined()
  expect(lookups).toBe(0)
  expect(await tickets.redeem(`wst_${'A'.repeat(43)}`)).toBeUndefined()
  expect(lookups).toBe(1)
})
