/**
 * What the audit log keeps of refusals (issue 13: L3, L4, L6), through the front door with
 * authentication on: probing signals leave a record (a name no tool has, another user's session
 * id, a forbidden Host or Origin, every 429); what a client can repeat at will is written once per
 * window and address, then as one count; records past the retention are deleted; and every stdout
 * line stays one line for every log shipper.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AuditRecord } from '../../src/auth/stores.ts'
import { SqliteAuthStores } from '../../src/stores/sqlite/sqlite-auth-stores.ts'
import { bearer, mcpCall, mcpSession, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { post } from '../_utils/http.ts'
import { startAuthServer } from '../_utils/server.ts'
import { until } from '../_utils/wait.ts'

let h: Harness
let ada: Login
let bob: Login
beforeAll(async () => {
  h = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_AUDIT_AGGREGATE_S: '1' })
  ada = await signIn(h, 'ada@example.com')
  bob = await signIn(h, 'bob@example.com')
})
afterAll(() => h.stop())

const records = (q: { kind?: string; outcome?: string; limit?: number } = {}) => h.server.auth!.audit.query({ limit: 100, ...q })

describe('refusals that matter are audited (L3)', () => {
  test('a call naming no tool', async () => {
    const s = await mcpSession(h, ada.token)
    const { body } = await mcpCall(h, s, 'tools/call', { name: 'drop_database', arguments: {} })
    expect(body).toMatchObject({ error: { code: -32602 } })
    const [record] = await records({ kind: 'tool_call', outcome: 'unknown_tool' })
    expect(record).toMatchObject({ tool: 'drop_database', email: 'ada@example.com', transport: 'streamable-http' })
  })

  test("another user's session id: 404 for the caller, a session_denied record naming the caller", async () => {
    const s = await mcpSession(h, ada.token)
    const res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 3, method: 'ping' }, { ...bearer(bob.token), 'mcp-session-id': s.id })
    expect(res.status).toBe(404)
    const [record] = await records({ kind: 'session_denied' })
    expect(record).toMatchObject({ outcome: 'denied', email: 'bob@example.com', transport: 'streamable-http', detail: 'a session of another user' })
    expect(JSON.stringify(record)).not.toContain(s.id)
  })

  test('a forbidden Host or Origin, with the client address', async () => {
    expect((await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }, { host: 'evil.example' })).status).toBe(403)
    expect((await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'ping' }, { origin: 'https://evil.example' })).status).toBe(403)
    expect((await records({ kind: 'host_denied' }))[0]).toMatchObject({ outcome: 'denied', detail: 'Host "evil.example"', clientAddress: '127.0.0.1' })
    expect((await records({ kind: 'origin_denied' }))[0]).toMatchObject({ outcome: 'denied', detail: 'Origin "https://evil.example"', clientAddress: '127.0.0.1' })
  })

  test('a 429 of the per-address request budget', async () => {
    const tight = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_RATE_REQUESTS_ADDRESS: '3/1m' })
    try {
      const user = await signIn(tight, 'tight@example.com')
      const statuses: number[] = []
      for (let i = 0; i < 5; i++) statuses.push((await fetch(`${tight.url}/mcp/tools`, { headers: bearer(user.token) })).status)
      expect(statuses).toEqual([200, 200, 200, 429, 429])
      const [record] = await tight.server.auth!.audit.query({ limit: 1, kind: 'rate_limited' })
      expect(record).toMatchObject({ outcome: 'denied', detail: '/mcp/tools: requests from this address', clientAddress: '127.0.0.1' })
    } finally {
      await tight.stop()
    }
  })
})

describe('what anyone can repeat is bounded in the log (L4)', () => {
  test('300 garbage bearer tokens from one address are one record, then one count when the window ends', async () => {
    const before = (await records({ kind: 'token_rejected', limit: 1000 })).length
    await Promise.all(Array.from({ length: 300 }, (_, i) => fetch(`${h.url}/mcp/tools`, { headers: { authorization: `Bearer garbage${i}.AAAA.BBBB` } })))
    expect((await records({ kind: 'token_rejected', limit: 1000 })).length).toBe(before + 1)
    // The window is 1 s here (MCPRAG_AUDIT_AGGREGATE_S): then the repeats are one record.
    await until(async () => (await records({ kind: 'token_rejected', limit: 1000 })).length === before + 2, 5000, 'the count of the repeats')
    const [count] = await records({ kind: 'token_rejected', limit: 1 })
    expect(count).toMatchObject({ outcome: 'denied', clientAddress: '127.0.0.1', detail: 'repeated 299 more times within 1 s: malformed_or_forged' })
    // Every refusal is still counted in /metrics.
    expect(await (await fetch(`${h.url}/metrics`)).text()).toMatch(/mcprag_auth_failures_total\{reason="token_rejected"\} (3\d\d|[4-9]\d\d)/)
  })

  test('records past MCPRAG_AUDIT_RETENTION_DAYS are deleted (at boot, then hourly)', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'mcprag-retention-'))
    try {
      const day = 86_400_000
      const seed = new SqliteAuthStores(join(dataDir, 'mcprag.db'))
      const seeded: AuditRecord[] = [40, 20, 5].map((days) => ({ at: Date.now() - days * day, kind: 'login_completed', outcome: 'ok', detail: `${days} days old` }))
      await seed.audit.append(seeded)
      await seed.close()
      const s = await startAuthServer({ MCPRAG_DATA_DIR: dataDir, MCPRAG_AUDIT_RETENTION_DAYS: '30' })
      try {
        await until(async () => (await s.auth!.audit.query({ limit: 10, kind: 'login_completed' })).length === 2, 5000, 'the boot purge')
        expect((await s.auth!.audit.query({ limit: 10, kind: 'login_completed' })).map((r) => r.detail)).toEqual(['5 days old', '20 days old'])
      } finally {
        await s.stop()
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})

describe('one record, one line (L6)', () => {
  test('argument names and details with NEL, C1 controls, U+2028 and U+2029 are escaped on stdout', async () => {
    const loud = await startHarness({ MCPRAG_SIGNUP: 'open', MCPRAG_AUDIT_STDOUT: 'on' })
    const lines: string[] = []
    const original = console.log
    console.log = (...args: unknown[]) => {
      const text = args.map(String).join(' ')
      if (text.startsWith('{"audit"')) lines.push(...text.split('\n'))
      else original(...args)
    }
    try {
      const user = await signIn(loud, 'lines@example.com')
      const name = 'a\u2028b\u0085c\u2029d\u009be'
      expect((await restPost(`${loud.url}/mcp/tool/echo`, { text: 'x', [name]: 1 }, bearer(user.token))).status).toBe(422)
      await loud.server.auth!.audit.flush()
      const line = lines.find((l) => l.includes('invalid_arguments'))!
      expect(line).toBeDefined()
      expect(line).not.toMatch(/[\u0080-\u009f\u2028\u2029]/)
      expect(JSON.parse(line).detail).toContain(name)
    } finally {
      console.log = original
      await loud.stop()
    }
  })
})
