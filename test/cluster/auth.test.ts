/**
 * Identity across instances (scale.md §6.6, security.md): users created by the operator CLI on the
 * shared store sign in anywhere; one-time tokens, WebSocket tickets and TOTP codes are single-use
 * across instances; sign-in budgets are exact across instances; logout on one instance refuses
 * the token and closes its streams and sockets on every other within a second.
 */
import { Client as Client2, StreamableHTTPClientTransport as Transport2, UnauthorizedError } from '@modelcontextprotocol/client'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bearer, codeAt, restPost, type Harness, type Login } from '../_utils/auth.ts'
import { Cluster, type Instance } from '../_utils/cluster.ts'
import { SseReader } from '../_utils/http.ts'
import { parseEnrolmentMail, parseLoginMail, startSmtp, type TestSmtp } from '../_utils/smtp.ts'
import { until } from '../_utils/wait.ts'
import { AgentProvider } from '../_utils/oauth-client.ts'
import { McpSocket } from '../_utils/ws.ts'
import { totpFor } from '../../src/auth/totp.ts'
import { canRunCluster } from './_cluster-support.ts'

let cluster: Cluster
let smtp: TestSmtp
let a: Instance
let b: Instance
let c: Instance
beforeAll(async () => {
  smtp = await startSmtp()
  cluster = await new Cluster({ instances: 3, auth: true, env: { SMTP_URL: smtp.url, MCPRAG_RATE_AUTH_ADDRESS: '20/15m' } }).start()
  ;[a, b, c] = cluster.instances as [Instance, Instance, Instance]
}, 60_000)
afterAll(async () => {
  await cluster?.stop()
  await smtp?.stop()
})

/** Each test speaks from an address of its own (the instances trust one proxy hop), so budgets do not mix. */
const from = (address: string) => ({ 'x-forwarded-for': address })

async function cli(...args: string[]): Promise<{ code: number; out: string }> {
  const proc = Bun.spawn(['bun', 'src/cli.ts', ...args], { env: cluster.env(), stdout: 'pipe', stderr: 'pipe' })
  const out = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text())
  return { code: await proc.exited, out }
}

async function signIn(email: string, address: string, login: Instance, callback: Instance): Promise<{ login: Login; token: string }> {
  const before = smtp.to(email).length
  expect((await restPost(`${login.url}/auth/login`, { email }, from(address))).status).toBe(200)
  const { token } = parseLoginMail(await smtp.waitFor(email, before + 1))
  const res = await fetch(`${callback.url}/auth/callback?token=${token}`, { headers: { accept: 'application/json', ...from(address) } })
  expect(res.status).toBe(200)
  return { login: (await res.json()) as Login, token }
}

async function mcpSession(instance: Instance, token: string): Promise<Record<string, string>> {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...bearer(token) }
  const res = await fetch(`${instance.url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'auth', version: '1' } } }),
  })
  expect(res.status).toBe(200)
  return { ...headers, 'mcp-session-id': res.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' }
}

describe.skipIf(!canRunCluster)('identity across instances', () => {
  test('a user made by the CLI signs in on one instance and calls tools on the others; the emailed token is single-use everywhere', async () => {
    expect((await cli('user', 'create', 'ada@example.com', '--tier', 'user')).code).toBe(0)
    const { login, token } = await signIn('ada@example.com', '198.51.100.1', a, b)
    expect(login.tier).toBe('user')
    const replay = await fetch(`${c.url}/auth/callback?token=${token}`, { headers: { accept: 'application/json', ...from('198.51.100.1') } })
    expect(replay.status).toBe(401)
    const session = await mcpSession(a, login.token)
    for (const instance of [b, c]) {
      const res = await fetch(`${instance.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'whoami', arguments: {} } }) })
      expect(res.status).toBe(200)
      expect(JSON.stringify(await res.json())).toContain('ada@example.com')
    }
  })

  test('a WebSocket ticket from one instance opens a socket on another, once', async () => {
    expect((await cli('user', 'create', 'ws@example.com')).code).toBe(0)
    const { login } = await signIn('ws@example.com', '198.51.100.2', b, c)
    const res = await fetch(`${a.url}/auth/ws-ticket`, { method: 'POST', headers: { ...bearer(login.token), ...from('198.51.100.2') } })
    const { ticket } = (await res.json()) as { ticket: string }
    const socket = await McpSocket.connect(`${b.url.replace('http', 'ws')}/mcp/ws?ticket=${ticket}`)
    expect(await socket.request('ping')).toMatchObject({ result: {} })
    socket.close()
    const again = await fetch(`${c.url}/mcp/ws?ticket=${ticket}`, { headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13', 'sec-websocket-protocol': 'mcp' } })
    expect(again.status).toBe(401)
  })

  test('an enrolment code emailed by one instance works once on another; a TOTP code accepted on one instance is a replay on another', async () => {
    expect((await cli('user', 'create', 'totp@example.com')).code).toBe(0)
    const { login } = await signIn('totp@example.com', '198.51.100.3', c, a)
    const headers = { ...bearer(login.token), ...from('198.51.100.3') }
    const before = smtp.to('totp@example.com').length
    expect((await restPost(`${c.url}/auth/totp/enroll`, {}, headers)).status).toBe(202)
    const code = parseEnrolmentMail(await smtp.waitFor('totp@example.com', before + 1))
    const enrol = await restPost(`${a.url}/auth/totp/enroll`, { enrolment_code: code }, headers)
    expect(enrol.status).toBe(200)
    expect((await restPost(`${b.url}/auth/totp/enroll`, { enrolment_code: code }, headers)).status).toBe(401)
    const totp = totpFor(((await enrol.json()) as { secret: string }).secret)
    const into = Date.now() % 30_000
    if (into > 26_000) await Bun.sleep(30_000 - into + 50)
    expect((await restPost(`${b.url}/auth/totp/confirm`, { totp_code: codeAt(totp, -1) }, headers)).status).toBe(200)
    const now = codeAt(totp)
    const verify = (i: Instance) => restPost(`${i.url}/auth/verify-mfa`, { user_id: login.user_id, totp_code: now }, headers)
    expect((await verify(c)).status).toBe(200)
    const replayed = await verify(a)
    expect(replayed.status).toBe(401)
    expect(await replayed.json()).toMatchObject({ error: 'invalid_code' })
  })

  test('the sign-in budget per address is exact across instances', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 30; i++) {
      const instance = cluster.instances[i % 3]!
      statuses.push((await restPost(`${instance.url}/auth/login`, { email: `nobody${i}@example.com` }, from('203.0.113.7'))).status)
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(20)
    expect(statuses.filter((s) => s === 429)).toHaveLength(10)
  })

  test('logout on one instance: the token is refused and its socket and streams close on the others within a second', async () => {
    expect((await cli('user', 'create', 'bye@example.com')).code).toBe(0)
    const { login } = await signIn('bye@example.com', '198.51.100.4', a, a)
    const ticket = ((await (await fetch(`${a.url}/auth/ws-ticket`, { method: 'POST', headers: { ...bearer(login.token), ...from('198.51.100.4') } })).json()) as { ticket: string }).ticket
    const socket = await McpSocket.connect(`${b.url.replace('http', 'ws')}/mcp/ws?ticket=${ticket}`)
    const session = await mcpSession(c, login.token)
    const stream = new SseReader(await fetch(`${c.url}/mcp`, { headers: { ...session, accept: 'text/event-stream' } }))
    await stream.next(2000)
    const out = await restPost(`${a.url}/auth/logout`, {}, { ...bearer(login.token), ...from('198.51.100.4') })
    expect(out.status).toBe(200)
    const at = Date.now()
    expect((await socket.closedWith(1000)).code).toBe(1008)
    await until(() => stream.ended, 1000, 'the GET stream on C to close')
    for (const instance of [b, c]) {
      const res = await fetch(`${instance.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'ping' }) })
      expect(res.status).toBe(401)
    }
    expect(Date.now() - at).toBeLessThan(1000)
  })
})

describe.skipIf(!canRunCluster)('OAuth through the proxy', () => {
  test('the SDK 2.x client signs in by itself through nginx: registration, sign-in, consent and token on whichever instances, then calls tools', async () => {
    expect((await cli('user', 'create', 'oauth@example.com')).code).toBe(0)
    // The scripted browser goes through nginx too: every page may land on another instance.
    const h = { url: cluster.url, smtp } as unknown as Harness
    const provider = new AgentProvider({ h, email: 'oauth@example.com' })
    const mcp = new URL(`${cluster.url}/mcp`)
    let client = new Client2({ name: 'cluster-oauth', version: '1' })
    const first = new Transport2(mcp, { authProvider: provider as never })
    await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError)
    await first.finishAuth(provider.callback)
    expect(provider.callback.get('iss')).toBe(cluster.url)
    client = new Client2({ name: 'cluster-oauth', version: '1' })
    await client.connect(new Transport2(mcp, { authProvider: provider as never }))
    for (let n = 0; n < 6; n++) expect((await client.callTool({ name: 'whoami', arguments: {} })).content).toEqual([expect.objectContaining({ type: 'text' })])
    expect(JSON.stringify((await client.callTool({ name: 'whoami', arguments: {} })).content)).toContain('oauth@example.com')
    await client.close()
  }, 60_000)
})

