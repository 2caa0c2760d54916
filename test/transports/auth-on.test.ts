/**
 * Legacy SSE and WebSocket behind the real bearer-token hook (`MCPRAG_AUTH=on`): the SDK's
 * SSEClientTransport with an Authorization header, a WebSocket whose upgrade carries one, refusals
 * before any session exists, and logout closing what the token had open. With real tokens of two
 * users: legacy SSE session hijack (T-A3), and a foreign Origin on /sse, /messages, the WebSocket
 * upgrade and the ticket endpoint, even with valid credentials (T-F1, T-F3).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { bearer, restPost, signIn, startHarness, wsTicket, type Harness } from '../_utils/auth.ts'
import { openLegacyStream, postMessage } from '../_utils/legacy-sse.ts'
import { McpSocket, upgradeRequest } from '../_utils/ws.ts'

let h: Harness
let token: string
beforeAll(async () => {
  h = await startHarness()
  token = (await signIn(h, 'sse-ws@example.com', 'user')).token
})
afterAll(() => h.stop())

test('legacy SSE: no token is 401 with the resource metadata challenge; with one the SDK client works', async () => {
  const refused = await fetch(`${h.url}/sse`, { headers: { accept: 'text/event-stream' } })
  expect(refused.status).toBe(401)
  expect(refused.headers.get('www-authenticate')).toContain('resource_metadata=')
  const client = new Client({ name: 'sse-auth', version: '1.0.0' })
  await client.connect(new SSEClientTransport(new URL(`${h.url}/sse`), { requestInit: { headers: bearer(token) } }))
  const echo = await client.callTool({ name: 'echo', arguments: { text: 'authenticated' } })
  expect(echo.content).toEqual([{ type: 'text', text: 'authenticated' }])
  await client.close()
})

test('WebSocket: no token is 401 on the upgrade; with one the socket works, and logout closes it with 1008', async () => {
  const refused = await fetch(`${h.url}/mcp/ws`, {
    headers: { upgrade: 'websocket', connection: 'Upgrade', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', 'sec-websocket-version': '13' },
  })
  expect(refused.status).toBe(401)

  // Bun's client can send the header a browser cannot (see the README for the browser route).
  const ws = new WebSocket(`${h.url.replace('http', 'ws')}/mcp/ws`, { protocols: 'mcp', headers: bearer(token) })
  const replies: { id?: number; result?: unknown }[] = []
  ws.onmessage = (e) => void replies.push(JSON.parse(String(e.data)))
  await new Promise((resolve, reject) => {
    ws.onopen = resolve
    ws.onerror = reject
  })
  const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)))
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ws-auth', version: '1' } } }))
  ws.send(JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'over ws' } } }))
  const deadline = Date.now() + 5000
  while (!replies.some((r) => r.id === 2) && Date.now() < deadline) await Bun.sleep(10)
  expect(replies.find((r) => r.id === 2)?.result).toEqual({ content: [{ type: 'text', text: 'over ws' }] })

  const logout = await restPost(`${h.url}/auth/logout`, {}, bearer(token))
  expect(logout.status).toBeLessThan(300)
  expect(await closed).toBe(1008)
})

test('T-A3: user B posting to user A\'s legacy SSE session with B\'s valid token gets 404, and A\'s stream receives nothing', async () => {
  const a = await signIn(h, 'alice@example.com', 'user')
  const b = await signIn(h, 'mallory@example.com', 'user')
  const { sse, endpoint } = await openLegacyStream(`${h.url}/sse`, bearer(a.token))
  const sessionId = new URL(endpoint).searchParams.get('sessionId')!
  const call = (id: string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'whoami', arguments: {} } })
  // Both message paths reach the same sessions; neither lets B in.
  for (const path of ['/messages', '/mcp/messages']) {
    const hijack = await postMessage(`${h.url}${path}?sessionId=${sessionId}`, call(`hijack${path}`), bearer(b.token))
    expect(hijack.status).toBe(404)
    expect(await hijack.json()).toMatchObject({ error: { code: -32001 } })
  }
  // A's own call afterwards is answered on A's stream, and it is the only message there.
  expect((await postMessage(endpoint, call('mine'), bearer(a.token))).status).toBe(202)
  expect(JSON.stringify(await sse.reply('mine'))).toContain('alice@example.com')
  await Bun.sleep(50)
  expect(sse.events.filter((e) => e.event === 'message').map((e) => (JSON.parse(e.data) as { id?: string }).id)).toEqual(['mine'])
  const calls = await h.server.auth!.audit.query({ limit: 10, kind: 'tool_call', userId: b.user_id })
  expect(calls).toEqual([])
  await sse.close()
})

describe('T-F1: a foreign Origin is 403 with no CORS grant, whatever credentials come with it', () => {
  const evil = { origin: 'https://evil.example' }
  let a: Awaited<ReturnType<typeof signIn>>
  beforeAll(async () => {
    a = await signIn(h, 'origin@example.com', 'user')
  })
  const refused = async (res: Response) => {
    expect(res.status).toBe(403)
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    expect(await res.text()).toContain('Origin')
  }

  test('the legacy SSE stream (/sse, /mcp/sse) and its messages endpoint', async () => {
    for (const path of ['/sse', '/mcp/sse']) await refused(await fetch(`${h.url}${path}`, { headers: { accept: 'text/event-stream', ...bearer(a.token), ...evil } }))
    const { sse, endpoint } = await openLegacyStream(`${h.url}/sse`, bearer(a.token))
    await refused(await postMessage(endpoint, { jsonrpc: '2.0', id: 'evil', method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' } } }, { ...bearer(a.token), ...evil }))
    await Bun.sleep(50)
    expect(sse.events.filter((e) => e.event === 'message')).toEqual([])
    await sse.close()
  })

  test('the WebSocket upgrade, with a bearer header or a ticket; the refused ticket stays unspent', async () => {
    const wsUrl = `${h.url.replace('http', 'ws')}/mcp/ws`
    await refused(await upgradeRequest(wsUrl, { ...bearer(a.token), ...evil }))
    const ticket = await wsTicket(h.url, a.token)
    await refused(await upgradeRequest(`${wsUrl}?ticket=${ticket}`, evil))
    // The Origin check runs before the ticket is looked at, so a hostile page cannot burn it.
    const socket = await McpSocket.connect(`${wsUrl}?ticket=${ticket}`, { origin: 'http://localhost:5173' })
    socket.close()
  })

  test('the ticket endpoint, and preflights from the foreign origin get no grant (T-F3)', async () => {
    await refused(await fetch(`${h.url}/auth/ws-ticket`, { method: 'POST', headers: { ...bearer(a.token), ...evil } }))
    for (const path of ['/sse', '/messages', '/auth/ws-ticket']) {
      const pre = await fetch(`${h.url}${path}`, { method: 'OPTIONS', headers: { ...evil, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' } })
      expect({ path, status: pre.status, acao: pre.headers.get('access-control-allow-origin') }).toEqual({ path, status: 403, acao: null })
    }
  })
})
