/**
 * The MCP TypeScript SDK 1.x client, unmodified, signs in by itself through the real
 * authorization server over Streamable HTTP and legacy SSE: discovery, dynamic registration, the
 * browser sign-in (scripted agent: magic link from the SMTP server, consent), PKCE, the token
 * exchange; then a second connection reuses what it stored; refresh rotates; an admin tool steps
 * up to mcp:admin with a TOTP code.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
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

type Transport = StreamableHTTPClientTransport | SSEClientTransport
/** Connect as an app does: on UnauthorizedError, finish the browser sign-in and connect again. */
async function connect(provider: AgentProvider, make: () => Transport): Promise<Client> {
  const client = new Client({ name: 'sdk1-e2e', version: '1.0.0' })
  const transport = make()
  try {
    await client.connect(transport)
    return client
  } catch (err) {
    if (!(err instanceof UnauthorizedError)) throw err
  }
  expect(provider.callback.get('state')).toBe(provider.lastState)
  await transport.finishAuth(provider.callback.get('code')!)
  const again = new Client({ name: 'sdk1-e2e', version: '1.0.0' })
  await again.connect(make())
  return again
}

describe('SDK 1.x over Streamable HTTP', () => {
  const provider = () => new AgentProvider({ h, email: 'ada@example.com', totp })
  const mcp = () => new URL(`${h.url}/mcp`)
  let p: AgentProvider

  test('first connection: registers, signs in through the browser, and calls a tool', async () => {
    p = provider()
    const before = await registrations()
    const client = await connect(p, () => new StreamableHTTPClientTransport(mcp(), { authProvider: p }))
    expect(p.results).toHaveLength(1)
    expect(p.results[0]!.pages).toEqual(['/oauth/login', '/oauth/email', '/oauth/consent'])
    expect(await registrations()).toBe(before + 1)
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello over oauth' } })
    expect(result.content).toEqual([{ type: 'text', text: 'hello over oauth' }])
    const claims = decodeJwt(String(p.savedTokens!.access_token)).payload
    expect(claims).toMatchObject({ aud: `${h.url}/mcp`, iss: h.url, scope: 'mcp:tools', client_id: String(p.client!.client_id) })
    expect(Number(p.savedTokens!.expires_in)).toBeGreaterThanOrEqual(15 * 60 - 5)
    await client.close()
  }, 30_000)

  test('a second connection reuses the stored client and tokens: no registration, no browser', async () => {
    const before = await registrations()
    const client = new Client({ name: 'sdk1-e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(mcp(), { authProvider: p }))
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo')
    expect(p.results).toHaveLength(1)
    expect(await registrations()).toBe(before)
    await client.close()
  }, 30_000)

  test('refresh rotates: a new refresh token works, and the old one is dead and kills the grant', async () => {
    const rt1 = String(p.savedTokens!.refresh_token)
    const form = (rt: string) => new URLSearchParams({ grant_type: 'refresh_token', refresh_token: rt, client_id: String(p.client!.client_id) })
    const first = await fetch(`${h.url}/token`, { method: 'POST', body: form(rt1) })
    expect(first.status).toBe(200)
    const rotated = (await first.json()) as { access_token: string; refresh_token: string }
    expect(rotated.refresh_token).not.toBe(rt1)
    // The SDK keeps working on its own refresh path with the new pair.
    p.savedTokens = { ...p.savedTokens, ...rotated }
    const client = new Client({ name: 'sdk1-e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(mcp(), { authProvider: p }))
    await client.close()
    const reuse = await fetch(`${h.url}/token`, { method: 'POST', body: form(rt1) })
    expect(reuse.status).toBe(400)
    expect(((await reuse.json()) as { error: string }).error).toBe('invalid_grant')
    const now = await fetch(`${h.url}/mcp`, { method: 'POST', headers: { authorization: `Bearer ${rotated.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{"jsonrpc":"2.0","id":1,"method":"ping"}' })
    expect(now.status).toBe(401)
  }, 30_000)

  // SDK 1.x answers a 403 step-up by refreshing when it holds a refresh token, and a refresh
  // cannot widen a grant; so this client registers without refresh tokens, and re-authorizes.
  test('an admin tool steps up: 403 insufficient_scope, consent with a TOTP code, then the call runs', async () => {
    const q = new AgentProvider({ h, email: 'ada@example.com', totp }, { grant_types: ['authorization_code'] })
    let transport!: StreamableHTTPClientTransport
    let client = await connect(q, () => (transport = new StreamableHTTPClientTransport(mcp(), { authProvider: q })))
    // The 403 sends the SDK back to the browser with scope "mcp:tools mcp:admin"; the app then
    // finishes the sign-in as it did the first time and calls again.
    await expect(client.callTool({ name: 'audit_query', arguments: { limit: 1 } })).rejects.toBeInstanceOf(UnauthorizedError)
    await transport.finishAuth(q.callback.get('code')!)
    transport = new StreamableHTTPClientTransport(mcp(), { authProvider: q })
    client = new Client({ name: 'sdk1-e2e', version: '1.0.0' })
    await client.connect(transport)
    const result = await client.callTool({ name: 'audit_query', arguments: { limit: 1 } })
    expect(result.isError).toBeFalsy()
    expect(q.results).toHaveLength(2)
    // The step-up went through the consent page again (already signed in), this time with a code.
    expect(q.results[1]!.pages).toEqual(['/oauth/consent'])
    expect(decodeJwt(String(q.savedTokens!.access_token)).payload.scope).toBe('mcp:admin mcp:tools')
    await client.close()
  }, 90_000)
})

describe('SDK 1.x over legacy SSE', () => {
  test('first connection signs in and calls a tool; the token is for /sse', async () => {
    const p = new AgentProvider({ h, email: 'ada@example.com', totp })
    const client = await connect(p, () => new SSEClientTransport(new URL(`${h.url}/sse`), { authProvider: p }))
    expect((await client.callTool({ name: 'echo', arguments: { text: 'over sse' } })).content).toEqual([{ type: 'text', text: 'over sse' }])
    expect(decodeJwt(String(p.savedTokens!.access_token)).payload.aud).toBe(`${h.url}/sse`)
    await client.close()
  }, 30_000)
})
