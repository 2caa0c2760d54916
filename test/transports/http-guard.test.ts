/**
 * The Host and Origin guard, from the outside (issue 13: I3, I4, I5): only well-formed Host
 * headers pass, CORS grants the normalised origin, and without authentication no other local web
 * app's page may call in.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { post } from '../_utils/http.ts'
import { startTestServer, type TestServer } from '../_utils/server.ts'

let open: TestServer
let patterns: TestServer
beforeAll(async () => {
  // Authentication off, default origins: every caller is an anonymous admin.
  open = await startTestServer()
  patterns = await startTestServer({ MCPRAG_ALLOWED_ORIGINS: 'http://localhost:*,http://127.0.0.1:*' })
})
afterAll(async () => {
  await open.stop()
  await patterns.stop()
})

const ping = (s: TestServer, headers: Record<string, string>) => post(s.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, headers)

describe('Host (I3)', () => {
  test('a Host that is not a valid host[:port] is 403, even when it starts with an allowed name', async () => {
    for (const host of ['[::1]evil.com', '[::1]:80evil', 'localhost:99999', 'localhost:80:80', 'localhost/x', 'local host']) {
      const res = await ping(open, { host })
      expect({ host, status: res.status }).toEqual({ host, status: 403 })
    }
  })

  test('valid loopback Host values on any port pass', async () => {
    for (const host of ['localhost', 'localhost:1234', '127.0.0.1:9', '[::1]', '[::1]:65535', 'LOCALHOST:80'])
      expect({ host, status: (await ping(open, { host })).status }).toEqual({ host, status: 200 })
  })
})

describe('CORS (I4)', () => {
  test('Access-Control-Allow-Origin is the normalised origin, never the raw header', async () => {
    for (const [origin, granted] of [
      ['http://LOCALHOST:9', 'http://localhost:9'],
      ['http://127.0.0.1:9/path', 'http://127.0.0.1:9'],
      ['http://localhost:80', 'http://localhost'],
    ] as const) {
      const res = await ping(patterns, { origin })
      expect({ origin, status: res.status, acao: res.headers.get('access-control-allow-origin') }).toEqual({ origin, status: 200, acao: granted })
    }
  })
})

describe('origins without authentication (I5)', () => {
  test("a page of another local web app is refused; the server's own origin is not", async () => {
    const port = new URL(open.url).port
    for (const origin of ['http://localhost:8080', 'http://127.0.0.1:3001', 'http://[::1]:5173']) {
      const rest = await fetch(`${open.url}/mcp/tool/audit_query`, { method: 'POST', headers: { origin, 'content-type': 'application/json' }, body: '{}' })
      expect({ origin, rest: rest.status, mcp: (await ping(open, { origin })).status }).toEqual({ origin, rest: 403, mcp: 403 })
    }
    for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
      const res = await ping(open, { origin })
      expect({ origin, status: res.status, acao: res.headers.get('access-control-allow-origin') }).toEqual({ origin, status: 200, acao: origin })
    }
  })
})
