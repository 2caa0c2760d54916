/**
 * Redis restarts under a running cluster (scale.md §6.5 F1): nothing crashes, new sessions get 503
 * with Retry-After while it is away, sessions an instance has seen keep being served, readiness
 * reports the outage only once it lasts, and everything recovers without a restart: subscriptions
 * (bus topics, instance inboxes) included.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Cluster } from '../_utils/cluster.ts'
import { until } from '../_utils/wait.ts'
import { canRunCluster, textOf } from './_cluster-support.ts'

const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
const initialize = (url: string) =>
  fetch(`${url}/mcp`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'f1', version: '1' } } }),
  })

let cluster: Cluster
beforeAll(async () => {
  cluster = await new Cluster({ instances: 2 }).start()
}, 60_000)
afterAll(() => cluster?.stop())

describe.skipIf(!canRunCluster)('Redis restart mid-run', () => {
  test('503 for new sessions while away, cached sessions served, /ready after the grace only, full recovery after', async () => {
    const [a, b] = cluster.instances as [typeof cluster.instances[0], typeof cluster.instances[0]]
    const client = new Client({ name: 'through-outage', version: '1' })
    const transport = new StreamableHTTPClientTransport(new URL(`${a.url}/mcp`))
    await client.connect(transport)
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toBe('before')

    await cluster.redis('SHUTDOWN', 'NOSAVE').catch(() => {})
    await until(async () => (await initialize(b.url)).status === 503, 5000, 'new sessions to be refused')
    const refused = await initialize(a.url)
    expect(refused.status).toBe(503)
    expect(refused.headers.get('retry-after')).toBe('2')
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/retry in 2 s/)
    // The session A has seen keeps working (its state cannot change while Redis is away).
    expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'during' } }))).toBe('during')
    // Readiness holds during a blip and reports the outage once it lasts past the grace (2 s here).
    await until(async () => (await fetch(`${a.url}/ready`)).status === 503, 6000, '/ready to report the outage')
    expect((await fetch(`${a.url}/health`)).status).toBe(200)

    await Bun.sleep(500)
    await cluster.startRedis()
    await until(async () => (await fetch(`${a.url}/ready`)).status === 200 && (await fetch(`${b.url}/ready`)).status === 200, 15_000, 'both instances ready again')
    for (const i of cluster.instances) expect(i.proc.exitCode).toBeNull()
    // Every failure during the outage was handled where it happened, none by the last-resort handler.
    expect(cluster.logs()).not.toContain('[mcprag] bug:')

    // Redis kept nothing (no persistence): new sessions, with every subscription working again —
    // a sampling answer posted to B reaches the tool on A through A's inbox channel.
    const again = new Client({ name: 'after-outage', version: '1' }, { capabilities: { sampling: {} } })
    again.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'recovered' } }))
    const t2 = new StreamableHTTPClientTransport(new URL(`${a.url}/mcp`), {
      fetch: (url, init) => {
        const target = new URL(url)
        const reply = typeof init?.body === 'string' && init.body.includes('"result"') && !init.body.includes('"method"')
        target.port = String((reply ? b : a).port)
        return fetch(target, init)
      },
    })
    await until(async () => {
      try {
        await again.connect(t2)
        return true
      } catch {
        return false
      }
    }, 10_000, 'a new session after the restart')
    expect(textOf(await again.callTool({ name: 'test_sampling', arguments: { prompt: 'p' } }))).toBe('LLM response: recovered')
    // A DELETE on A is seen on B at once: B's bus subscription came back too.
    const sid = t2.sessionId!
    await t2.terminateSession()
    const res = await fetch(`${b.url}/mcp`, { method: 'POST', headers: { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'ping' }) })
    expect(res.status).toBe(404)
    await client.close()
  }, 60_000)
})
