/**
 * Three instances sharing one Redis behind plain round-robin nginx: any instance serves any
 * session (scale.md §6.1–6.3). Cross-instance flows are forced by sending chosen requests to
 * chosen instances directly; the proxy test shows the same with no control over routing.
 */
import { Client as Client2, StreamableHTTPClientTransport as Transport2 } from '@modelcontextprotocol/client'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Cluster } from '../_utils/cluster.ts'
import { openLegacyStream, postMessage } from '../_utils/legacy-sse.ts'
import { until } from '../_utils/wait.ts'
import { McpSocket } from '../_utils/ws.ts'
import { canRunCluster, textOf } from './_cluster-support.ts'


let cluster: Cluster
beforeAll(async () => {
  cluster = await new Cluster({ instances: 3 }).start()
}, 60_000)
afterAll(() => cluster?.stop())

/** Tool calls served by one instance, from its /metrics. */
async function toolCalls(port: number, tool: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()
  let n = 0
  for (const line of text.split('\n')) if (line.startsWith('mcprag_tool_calls') && line.includes(`tool="${tool}"`)) n += Number(line.split(' ').at(-1))
  return n
}

/** A fetch that sends every request to instance `to(body)` instead of the URL's. */
function routed(to: (body: string) => number, seen: number[] = []) {
  return (url: string | URL, init?: RequestInit) => {
    const target = new URL(url)
    const index = to(typeof init?.body === 'string' ? init.body : '')
    seen.push(index)
    target.port = String(cluster.instances[index]!.port)
    return fetch(target, init)
  }
}
const isClientReply = (body: string) => /^\{?[^]*"(result|error)"/.test(body) && !body.includes('"method"')

describe.skipIf(!canRunCluster)('routing with no stickiness', () => {
  test('each instance says at boot that its Redis keeps nothing on disk (this one runs without AOF or RDB), and has an id of its own', async () => {
    for (const i of cluster.instances) expect(i.output.join('')).toContain('warning: Redis does not persist')
    const ids = await Promise.all(cluster.instances.map(async (i) => /mcprag_build_info\{[^}]*instance="([^"]+)"/.exec(await (await fetch(`${i.url}/metrics`)).text())?.[1]))
    expect(new Set(ids).size).toBe(3)
    for (const [n, i] of cluster.instances.entries()) expect(i.output.join('')).toContain(`instance ${ids[n]}`)
  })

  test('the SDK 1.x client through nginx: 30 calls on one session, served by every instance, with progress', async () => {
    const before = await Promise.all(cluster.instances.map((i) => toolCalls(i.port, 'echo')))
    const client = new Client({ name: 'cluster-sdk1', version: '1' })
    const transport = new StreamableHTTPClientTransport(new URL(`${cluster.url}/mcp`))
    await client.connect(transport)
    for (let n = 0; n < 30; n++) expect(textOf(await client.callTool({ name: 'echo', arguments: { text: `n${n}` } }))).toBe(`n${n}`)
    const progress: number[] = []
    const done = await client.callTool({ name: 'test_long_operation', arguments: { steps: 4, intervalMs: 20 } }, undefined, { onprogress: (p) => void progress.push(p.progress) })
    expect(textOf(done)).toBe('done after 4 steps')
    expect(progress).toEqual([1, 2, 3, 4])
    const after = await Promise.all(cluster.instances.map((i) => toolCalls(i.port, 'echo')))
    const served = after.map((a, i) => a - before[i]!)
    expect(served.reduce((x, y) => x + y)).toBe(30)
    expect(served.every((n) => n > 0)).toBe(true)
    await transport.terminateSession()
    await client.close()
  })

  test('the SDK 2.x client through nginx', async () => {
    const client = new Client2({ name: 'cluster-sdk2', version: '1' })
    const transport = new Transport2(new URL(`${cluster.url}/mcp`))
    await client.connect(transport)
    for (let n = 0; n < 9; n++) expect(textOf(await client.callTool({ name: 'echo', arguments: { text: `v2-${n}` } }))).toBe(`v2-${n}`)
    await transport.terminateSession()
    await client.close()
  })

  test('sampling and elicitation answered on another instance than the one running the tool', async () => {
    // Requests go to instance 0, the client's answers to server requests to instance 1.
    const seen: number[] = []
    const client = new Client({ name: 'cluster-replies', version: '1' }, { capabilities: { sampling: {}, elicitation: {} } })
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'from the client' } }))
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { username: 'ada', email: 'ada@example.com' } }))
    const transport = new StreamableHTTPClientTransport(new URL(`${cluster.url}/mcp`), { fetch: routed((body) => (isClientReply(body) ? 1 : 0), seen) })
    await client.connect(transport)
    expect(textOf(await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } }))).toBe('LLM response: from the client')
    const elicited = textOf(await client.callTool({ name: 'test_elicitation', arguments: { message: 'who?' } }))
    expect(elicited).toContain('ada@example.com')
    expect(seen.filter((i) => i === 1).length).toBeGreaterThanOrEqual(2)
    await transport.terminateSession()
    await client.close()
  })

  test('a GET stream held by one instance gets what another sends the session; DELETE on one is 404 on another within 100 ms', async () => {
    const [a, b, c] = cluster.instances as [typeof cluster.instances[0], typeof cluster.instances[0], typeof cluster.instances[0]]
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
    const init = await fetch(`${a.url}/mcp`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
    })
    const sid = init.headers.get('mcp-session-id')!
    const session = { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }
    await fetch(`${b.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })
    const get = await fetch(`${b.url}/mcp`, { headers: { ...session, accept: 'text/event-stream' } })
    expect(get.status).toBe(200)
    const reader = get.body!.getReader()
    let seen = ''
    const pump = (async () => {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) return
        seen += new TextDecoder().decode(value)
      }
    })()
    // Subscribed on C; every instance updates the watched resource every 3 s.
    const sub = await fetch(`${c.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: 'test://watched-resource' } }) })
    expect((await sub.json()) as object).toMatchObject({ result: {} })
    await until(() => seen.includes('notifications/resources/updated'), 8000, 'an update on the GET stream')
    const deleted = await fetch(`${a.url}/mcp`, { method: 'DELETE', headers: session })
    expect(deleted.status).toBe(200)
    const at = Date.now()
    await until(async () => (await fetch(`${c.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' }) })).status === 404, 100, 'a 404 on another instance')
    expect(Date.now() - at).toBeLessThan(100)
    // The GET stream on B ends with the session.
    await pump
  })

  test('legacy SSE: stream on one instance, POSTs and a sampling reply on the others', async () => {
    const [a, b, c] = cluster.instances as [typeof cluster.instances[0], typeof cluster.instances[0], typeof cluster.instances[0]]
    const { sse, endpoint } = await openLegacyStream(`${a.url}/sse`)
    const on = (inst: typeof a) => endpoint.replace(`:${a.port}/`, `:${inst.port}/`)
    const init = { protocolVersion: '2024-11-05', capabilities: { sampling: {} }, clientInfo: { name: 'legacy', version: '1' } }
    expect((await postMessage(on(b), { jsonrpc: '2.0', id: 1, method: 'initialize', params: init })).status).toBe(202)
    expect(await sse.reply(1)).toMatchObject({ result: { protocolVersion: '2024-11-05' } })
    expect((await postMessage(on(c), { jsonrpc: '2.0', method: 'notifications/initialized' })).status).toBe(202)
    expect((await postMessage(on(c), { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: { text: 'via c' } } })).status).toBe(202)
    expect(await sse.reply(2)).toMatchObject({ result: { content: [{ text: 'via c' }] } })
    // The tool runs on B; its sampling request arrives on A's stream; the answer goes to C.
    expect((await postMessage(on(b), { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'test_sampling', arguments: { prompt: 'p' } } })).status).toBe(202)
    const request = JSON.parse((await sse.next((e) => e.data.includes('sampling/createMessage'))).data) as { id: string }
    const answer = { jsonrpc: '2.0', id: request.id, result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'sampled on C' } } }
    expect((await postMessage(on(c), answer)).status).toBe(202)
    expect(await sse.reply(3)).toMatchObject({ result: { content: [{ text: 'LLM response: sampled on C' }] } })
    await sse.close()
  })

  test('the SDK 1.x legacy SSE client through nginx', async () => {
    const client = new Client({ name: 'cluster-legacy', version: '1' })
    await client.connect(new SSEClientTransport(new URL(`${cluster.url}/sse`)))
    for (let n = 0; n < 6; n++) expect(textOf(await client.callTool({ name: 'echo', arguments: { text: `sse${n}` } }))).toBe(`sse${n}`)
    await client.close()
  })

  test('a WebSocket on one instance gets resource updates written by the others', async () => {
    const socket = await McpSocket.connect(`${cluster.instances[0]!.url.replace('http', 'ws')}/mcp/ws`)
    expect(await socket.request('resources/subscribe', { uri: 'test://watched-resource' })).toMatchObject({ result: {} })
    // Three instances each update the resource every 3 s: more than one update within 4 s means others wrote too.
    await until(() => socket.messages.filter((m) => m.method === 'notifications/resources/updated').length >= 2, 8000, 'updates from several instances')
    socket.close()
  })
})
