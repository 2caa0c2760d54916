/**
 * Instances die (kill -9) while they hold streams: the client resumes on another instance and
 * loses nothing, a call whose instance died ends with a JSON-RPC error instead of a hang, and new
 * sessions keep working (scale.md §6.4 K1, K2).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpError, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Cluster } from '../_utils/cluster.ts'
import { SseReader } from '../_utils/http.ts'
import { until } from '../_utils/wait.ts'
import { canRunCluster, textOf } from './_cluster-support.ts'


let cluster: Cluster
beforeAll(async () => {
  cluster = await new Cluster({ instances: 3 }).start()
}, 60_000)
afterAll(() => cluster?.stop())

describe.skipIf(!canRunCluster)('failover', () => {
  test('kill -9 of the instance holding the GET stream: the client resumes elsewhere with Last-Event-ID and loses nothing', async () => {
    const rawHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
    const [a, b, c] = cluster.instances as [typeof cluster.instances[0], typeof cluster.instances[0], typeof cluster.instances[0]]
    const init = await fetch(`${a.url}/mcp`, {
      method: 'POST',
      headers: rawHeaders,
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'k2', version: '1' } } }),
    })
    const session = { ...rawHeaders, 'mcp-session-id': init.headers.get('mcp-session-id')!, 'mcp-protocol-version': '2025-11-25' }
    await fetch(`${a.url}/mcp`, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'resources/subscribe', params: { uri: 'test://watched-resource' } }) })
    // The GET stream is held by C, the instance about to die.
    const first = new SseReader(await fetch(`${c.url}/mcp`, { headers: { ...session, accept: 'text/event-stream' } }))
    const ids: string[] = []
    for (;;) {
      const e = await first.next(8000)
      if (!e) throw new Error('the stream ended early')
      if (e.id) ids.push(e.id)
      if (e.json?.method === 'notifications/resources/updated') break
    }
    await cluster.kill(2)
    expect(await first.rest()).toEqual([])
    // Updates keep being written (by A and B) while the client is away.
    await Bun.sleep(3500)
    const resumed = new SseReader(await fetch(`${b.url}/mcp`, { headers: { ...session, accept: 'text/event-stream', 'last-event-id': ids.at(-1)! } }))
    const replayed: { id: string; method: unknown }[] = []
    for (let e = await resumed.next(3000); e; e = await resumed.next(500)) if (e.id) replayed.push({ id: e.id, method: e.json?.method })
    await resumed.cancel()
    expect(replayed.length).toBeGreaterThan(0)
    expect(replayed.every((e) => e.method === 'notifications/resources/updated')).toBe(true)
    const seqs = [...ids, ...replayed.map((e) => e.id)].map((id) => Number(id.split(':')[1]))
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true)
    expect(new Set(seqs).size).toBe(seqs.length)
    // A new session after the kill, through the proxy.
    const client = new Client({ name: 'after-kill', version: '1' })
    const transport = new StreamableHTTPClientTransport(new URL(`${cluster.url}/mcp`))
    await client.connect(transport)
    for (let n = 0; n < 6; n++) expect(textOf(await client.callTool({ name: 'echo', arguments: { text: `k${n}` } }))).toBe(`k${n}`)
    await transport.terminateSession()
    await client.close()
  }, 30_000)

  test('the SDK client through nginx keeps its GET stream across the death of its instance', async () => {
    const updates: string[] = []
    const client = new Client({ name: 'sdk-k2', version: '1' })
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri))
    const transport = new StreamableHTTPClientTransport(new URL(`${cluster.url}/mcp`), { reconnectionOptions: { initialReconnectionDelay: 200, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 } })
    await client.connect(transport)
    await client.subscribeResource({ uri: 'test://watched-resource' })
    await until(() => updates.length > 0, 8000, 'a first update')
    // Whichever instance holds the GET stream now: the one whose metrics show a held session.
    let holder = -1
    await until(async () => {
      for (const i of cluster.instances.slice(0, 2)) {
        const text = await (await fetch(`${i.url}/metrics`)).text()
        if (/mcprag_sessions_active\{transport="streamable-http"\} [1-9]/.test(text)) holder = i.index
      }
      return holder >= 0
    }, 5000, 'the instance holding the GET stream')
    await cluster.kill(holder)
    const seen = updates.length
    await until(() => updates.length > seen + 1, 15_000, 'updates after the holder died')
    await transport.terminateSession().catch(() => {})
    await client.close()
  }, 40_000)
})

describe.skipIf(!canRunCluster)('a call whose instance dies', () => {
  let survivors: Cluster
  beforeAll(async () => {
    survivors = await new Cluster({ instances: 2 }).start()
  }, 60_000)
  afterAll(() => survivors?.stop())

  test('kill -9 while a slow call streams: the client resumes on another instance and gets a JSON-RPC error, never a hang', async () => {
    let dead = false
    const transport = new StreamableHTTPClientTransport(new URL(`${survivors.url}/mcp`), {
      // POSTs go to instance 0 until it dies; the resumption GET goes to instance 1.
      fetch: (url, init) => {
        const target = new URL(url)
        target.port = String(survivors.instances[dead || init?.method === 'GET' ? 1 : 0]!.port)
        return fetch(target, init)
      },
      reconnectionOptions: { initialReconnectionDelay: 200, maxReconnectionDelay: 1000, reconnectionDelayGrowFactor: 1.5, maxRetries: 5 },
    })
    const client = new Client({ name: 'k1', version: '1' })
    await client.connect(transport)
    const progress: number[] = []
    const call = client.callTool({ name: 'test_long_operation', arguments: { steps: 200, intervalMs: 200 } }, undefined, { onprogress: (p) => void progress.push(p.progress), timeout: 60_000 })
    await until(() => progress.length >= 2, 5000, 'progress from the call')
    await survivors.kill(0)
    dead = true
    const err = await call.then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(McpError)
    expect((err as McpError).code).toBe(-32603)
    expect((err as McpError).message).toContain('stopped before it answered')
    // The session itself lives on (its state is in Redis).
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here')
    await client.close()
  }, 60_000)
})

