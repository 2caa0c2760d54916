/**
 * Single-use WebSocket tickets (the browser route to /mcp/ws, README "Authentication hook"):
 * POST /auth/ws-ticket with a bearer token, then /mcp/ws?ticket=… once, within 30 s. A replayed,
 * expired, forged or malformed ticket, a ticket of a revoked session, and a bearer JWT put in the
 * URL are all refused at the upgrade with 401; the ticket is read nowhere but the upgrade; the
 * socket runs with the ticket's own auth session (MFA state, revocation).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { WS_TICKET_PATTERN, WsTickets } from '../../src/auth/ws-ticket.ts'
import { bearer, enrolTotp, restPost, signIn, startHarness, wsTicket, type Harness, type Login } from '../_utils/auth.ts'
import { post } from '../_utils/http.ts'
import { McpSocket, upgradeRequest } from '../_utils/ws.ts'

let h: Harness
let wsUrl: string
let ada: Login
beforeAll(async () => {
  h = await startHarness()
  wsUrl = `${h.url.replace('http', 'ws')}/mcp/ws`
  ada = await signIn(h, 'ada@example.com', 'user')
})
afterAll(() => h.stop())

const textOf = (reply: Record<string, unknown>) => ((reply.result as { content: { text: string }[] }).content[0]!).text

/** The audit detail of the newest refused token (never the ticket or token itself). */
async function lastRejection(): Promise<string | undefined> {
  await Bun.sleep(20)
  return (await h.server.auth!.audit.query({ limit: 1, kind: 'token_rejected' }))[0]?.detail
}

describe('POST /auth/ws-ticket', () => {
  test('needs a bearer token: without one it is 401 with the resource metadata challenge', async () => {
    const res = await fetch(`${h.url}/auth/ws-ticket`, { method: 'POST' })
    expect(res.status).toBe(401)
    expect(res.headers.get('www-authenticate')).toContain('resource_metadata=')
  })

  test('returns a random ticket valid for 30 s, not cached, and stored only as a hash', async () => {
    const res = await fetch(`${h.url}/auth/ws-ticket`, { method: 'POST', headers: bearer(ada.token) })
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as { ticket: string; expires_in: number }
    expect(Object.keys(body).sort()).toEqual(['expires_in', 'ticket'])
    expect(body.expires_in).toBe(30)
    expect(body.ticket).toMatch(WS_TICKET_PATTERN)
    expect(await wsTicket(h.url, ada.token)).not.toBe(body.ticket)
    const db = ['mcprag.db', 'mcprag.db-wal'].map((f) => {
      try {
        return readFileSync(join(h.server.dataDir!, f)).toString('latin1')
      } catch {
        return ''
      }
    })
    expect(db.join('').length).toBeGreaterThan(0)
    expect(db.join('')).not.toContain(body.ticket)
    expect(db.join('')).not.toContain(body.ticket.slice(4))
  })

  test('a ticket is no bearer token: it opens nothing but the upgrade', async () => {
    const ticket = await wsTicket(h.url, ada.token)
    expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(ticket) })).status).toBe(401)
    expect((await fetch(`${h.url}/auth/ws-ticket`, { method: 'POST', headers: bearer(ticket) })).status).toBe(401)
    // Nor is ?ticket= read anywhere else.
    expect((await post(`${h.url}/mcp?ticket=${ticket}`, { jsonrpc: '2.0', id: 1, method: 'ping' })).status).toBe(401)
    expect((await fetch(`${h.url}/sse?ticket=${ticket}`, { headers: { accept: 'text/event-stream' } })).status).toBe(401)
    expect((await fetch(`${h.url}/mcp/tools?ticket=${ticket}`)).status).toBe(401)
    // Still unspent after all that: it opens the socket.
    const socket = await McpSocket.connect(`${wsUrl}?ticket=${ticket}`)
    socket.close()
  })
})

describe('the upgrade with ?ticket=', () => {
  test('works once, with no Authorization header, as the user who asked for it', async () => {
    const ticket = await wsTicket(h.url, ada.token)
    const socket = await McpSocket.connect(`${wsUrl}?ticket=${ticket}`)
    expect(socket.ws.protocol).toBe('mcp')
    expect(textOf(await socket.request('tools/call', { name: 'whoami', arguments: {} }))).toContain('ada@example.com')
    // Replayed: refused, however soon.
    const replay = await upgradeRequest(`${wsUrl}?ticket=${ticket}`)
    expect(replay.status).toBe(401)
    expect(replay.headers.get('www-authenticate')).toContain('error="invalid_token"')
    expect(await replay.json()).toMatchObject({ error: { message: expect.stringContaining('/auth/ws-ticket') } })
    expect(await lastRejection()).toBe('unknown, expired, used or malformed ws ticket')
    socket.close()
  })

  test('of concurrent upgrades with one ticket exactly one opens', async () => {
    const ticket = await wsTicket(h.url, ada.token)
    const statuses = await Promise.all(Array.from({ length: 10 }, () => upgradeRequest(`${wsUrl}?ticket=${ticket}`).then((r) => r.status)))
    expect(statuses.filter((s) => s === 101)).toHaveLength(1)
    expect(statuses.filter((s) => s === 401)).toHaveLength(9)
  })

  test('an expired ticket is refused', async () => {
    // Issued through the server's own store by a clock 31 s behind: expired by 1 s for the server.
    const { ticket } = await new WsTickets(h.server.auth!.stores.oneTimeTokens('ws_ticket'), 30_000, () => Date.now() - 31_000).issue((await sessionOf(ada)).id)
    expect((await upgradeRequest(`${wsUrl}?ticket=${ticket}`)).status).toBe(401)
  })

  test('a forged or malformed ticket is refused', async () => {
    const forged = `wst_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')}`
    for (const ticket of [forged, 'wst_', 'x'.repeat(47), encodeURIComponent('wst_A" OR 1=1 --'), 'A'.repeat(43)]) {
      const res = await upgradeRequest(`${wsUrl}?ticket=${ticket}`)
      expect({ ticket, status: res.status }).toEqual({ ticket, status: 401 })
    }
    expect((await upgradeRequest(`${wsUrl}?ticket=`)).status).toBe(401)
  })

  test('a bearer JWT passed as ?ticket= is refused, and the audit log says why (never the token)', async () => {
    const res = await upgradeRequest(`${wsUrl}?ticket=${ada.token}`)
    expect(res.status).toBe(401)
    expect(await lastRejection()).toBe('a bearer token was sent as ?ticket= (tokens never go in URLs)')
    const lines = await h.server.auth!.audit.query({ limit: 50 })
    expect(JSON.stringify(lines)).not.toContain(ada.token)
    // Other URL spellings of a token are not read either.
    for (const q of ['access_token', 'token', 'authorization']) expect((await upgradeRequest(`${wsUrl}?${q}=${ada.token}`)).status).toBe(401)
  })

  test('a ticket together with an Authorization header, or two tickets, is a bad request', async () => {
    const [a, b] = [await wsTicket(h.url, ada.token), await wsTicket(h.url, ada.token)]
    expect((await upgradeRequest(`${wsUrl}?ticket=${a}`, bearer(ada.token))).status).toBe(400)
    expect((await upgradeRequest(`${wsUrl}?ticket=${a}&ticket=${b}`)).status).toBe(400)
  })

  test('a ticket of a revoked session is refused, and logout closes the socket a ticket opened (1008)', async () => {
    const bob = await signIn(h, 'bob@example.com', 'user')
    const [open, spare] = [await wsTicket(h.url, bob.token), await wsTicket(h.url, bob.token)]
    const socket = await McpSocket.connect(`${wsUrl}?ticket=${open}`)
    expect((await restPost(`${h.url}/auth/logout`, {}, bearer(bob.token))).status).toBe(200)
    expect((await socket.closedWith()).code).toBe(1008)
    expect((await upgradeRequest(`${wsUrl}?ticket=${spare}`)).status).toBe(401)
    expect(await lastRejection()).toBe('ws ticket of a session that is revoked')
  })

  test('the socket has the MFA state of the very session the ticket came from', async () => {
    // Two sessions of one admin: MFA verified on one only.
    const plain = await signIn(h, 'root@example.com', 'admin')
    const verified = await signIn(h, 'root@example.com')
    await enrolTotp(h, verified)
    const call = async (login: Login) => {
      const socket = await McpSocket.connect(`${wsUrl}?ticket=${await wsTicket(h.url, login.token)}`)
      const reply = await socket.request('tools/call', { name: 'audit_query', arguments: {} })
      socket.close()
      return reply
    }
    expect(await call(plain)).toMatchObject({ error: { code: -32003, data: { reason: 'mfa_required' } } })
    expect((await call(verified)).error).toBeUndefined()
  })

  test('the Authorization header still works on the upgrade (Bun and Node clients)', async () => {
    const socket = await McpSocket.connect(wsUrl, bearer(ada.token))
    expect(textOf(await socket.request('tools/call', { name: 'echo', arguments: { text: 'header' } }))).toBe('header')
    socket.close()
  })
})

describe('rate limits', () => {
  let limited: Harness
  beforeAll(async () => {
    // Sign-in spends two /auth/* requests (login, callback); three tickets fit, the fourth does not.
    limited = await startHarness({ MCPRAG_RATE_AUTH_ADDRESS: '5/15m' })
  })
  afterAll(() => limited.stop())

  test('POST /auth/ws-ticket spends the per-address /auth/* budget: 429 with Retry-After past it', async () => {
    const login = await signIn(limited, 'rl@example.com', 'user')
    const statuses: number[] = []
    for (let i = 0; i < 4; i++) statuses.push((await fetch(`${limited.url}/auth/ws-ticket`, { method: 'POST', headers: bearer(login.token) })).status)
    expect(statuses).toEqual([200, 200, 200, 429])
    const res = await fetch(`${limited.url}/auth/ws-ticket`, { method: 'POST', headers: bearer(login.token) })
    expect(res.status).toBe(429)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  })
})

async function sessionOf(login: Login): Promise<{ id: string }> {
  const resolved = await h.server.auth!.sessions.resolve(login.token)
  if ('rejected' in resolved) throw new Error(resolved.rejected)
  return { id: resolved.authSessionId! }
}
