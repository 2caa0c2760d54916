/**
 * Legacy SSE and WebSocket behind the real bearer-token hook (`MCPRAG_AUTH=on`): the SDK's
 * SSEClientTransport with an Authorization header, a WebSocket whose upgrade carries one, refusals
 * before any session exists, and logout closing what the token had open.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { bearer, restPost, signIn, startHarness, type Harness } from '../_utils/auth.ts'

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
