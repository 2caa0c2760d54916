/**
 * The MCP TypeScript SDK 2.x client (`@modelcontextprotocol/client`), unmodified: it checks the
 * metadata issuer and the RFC 9207 `iss` of the authorization response. First sign-in, reuse of
 * what it stored, an admin step-up (2.x re-authorizes even when it holds a refresh token), and a
 * mix-up attack: a tampered `iss` makes the client refuse to redeem the code.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Client, StreamableHTTPClientTransport, UnauthorizedError } from '@modelcontextprotocol/client'
import type { TOTP } from 'otpauth'
import type { Harness } from '../_utils/auth.ts'
import { decodeJwt } from '../_utils/jwt.ts'
import { registrations as countRegistrations, startAdminHarness } from '../_utils/oauth.ts'
import { AgentProvider } from '../_utils/oauth-client.ts'

let h: Harness
let totp: TOTP
beforeAll(async () => {
  ;({ h, totp } = await startAdminHarness())
})
afterAll(() => h.stop())

const registrations = () => countRegistrations(h)
const mcp = () => new URL(`${h.url}/mcp`)

/** Connect; on UnauthorizedError finish with the whole callback query (code, state and iss), then connect again. */
async function connect(p: AgentProvider): Promise<Client> {
  let transport = new StreamableHTTPClientTransport(mcp(), { authProvider: p as never })
  const client = new Client({ name: 'sdk2-e2e', version: '1.0.0' })
  try {
    await client.connect(transport)
    return client
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err
  }
  await transport.finishAuth(p.callback)
  transport = new StreamableHTTPClientTransport(mcp(), { authProvider: p as never })
  const again = new Client({ name: 'sdk2-e2e', version: '1.0.0' })
  await again.connect(transport)
  return again
}

let p: AgentProvider
test('first sign-in: the client accepts our issuer and iss, and calls a tool', async () => {
  p = new AgentProvider({ h, email: 'ada@example.com', totp })
  const before = await registrations()
  const client = await connect(p)
  expect(p.callback.get('iss')).toBe(h.url)
  expect(p.callback.get('state')).toBe(p.lastState)
  expect(await registrations()).toBe(before + 1)
  expect((await client.callTool({ name: 'echo', arguments: { text: 'v2' } })).content).toEqual([{ type: 'text', text: 'v2' }])
  await client.close()
}, 30_000)

test('a second connection reuses the stored registration and tokens', async () => {
  const before = await registrations()
  const client = new Client({ name: 'sdk2-e2e', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(mcp(), { authProvider: p as never }))
  expect((await client.listTools()).tools.length).toBeGreaterThan(0)
  expect(p.results).toHaveLength(1)
  expect(await registrations()).toBe(before)
  await client.close()
}, 30_000)

test('an admin call steps up to mcp:admin with a TOTP code on the consent page', async () => {
  let transport = new StreamableHTTPClientTransport(mcp(), { authProvider: p as never })
  let client = new Client({ name: 'sdk2-e2e', version: '1.0.0' })
  await client.connect(transport)
  await expect(client.callTool({ name: 'audit_query', arguments: { limit: 1 } })).rejects.toBeInstanceOf(UnauthorizedError)
  expect(p.results).toHaveLength(2)
  expect(p.results[1]!.pages).toEqual(['/oauth/consent'])
  await transport.finishAuth(p.callback)
  transport = new StreamableHTTPClientTransport(mcp(), { authProvider: p as never })
  client = new Client({ name: 'sdk2-e2e', version: '1.0.0' })
  await client.connect(transport)
  expect((await client.callTool({ name: 'audit_query', arguments: { limit: 1 } })).isError).toBeFalsy()
  const claims = decodeJwt(String(p.savedTokens!.access_token)).payload
  expect(claims.scope).toBe('mcp:admin mcp:tools')
  await client.close()
}, 90_000)

test('mix-up defence: with iss rewritten on the way back, the client refuses to redeem the code', async () => {
  const q = new AgentProvider({ h, email: 'ada@example.com', totp, tamper: (u) => u.searchParams.set('iss', 'https://evil.example') })
  const transport = new StreamableHTTPClientTransport(mcp(), { authProvider: q as never })
  await expect(new Client({ name: 'sdk2-e2e', version: '1.0.0' }).connect(transport)).rejects.toBeInstanceOf(UnauthorizedError)
  const exchanges = (await h.server.auth!.audit.query({ limit: 100, kind: 'oauth_code_exchanged' })).length
  await expect(transport.finishAuth(q.callback)).rejects.toThrow()
  expect((await h.server.auth!.audit.query({ limit: 100, kind: 'oauth_code_exchanged' })).length).toBe(exchanges)
  expect(q.savedTokens).toBeUndefined()
}, 30_000)
