/**
 * The 2026-07-28 era across instances: requests stand alone, so each round of a multi-round call
 * may land on another instance and continue from the sealed `requestState` (the instances share
 * MCPRAG_SECRET); `subscriptions/listen` on one instance hears what the others announce on the bus.
 */
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Cluster } from '../_utils/cluster.ts'
import { until } from '../_utils/wait.ts'
import { canRunCluster } from './_cluster-support.ts'

let cluster: Cluster
beforeAll(async () => {
  cluster = await new Cluster({ instances: 3 }).start()
}, 60_000)
afterAll(() => cluster?.stop())

/** A modern client whose POSTs go to the instances in turn; `served` lists which served each. */
async function connect(capabilities: Record<string, unknown> = {}) {
  const served: number[] = []
  let n = 0
  const client = new Client({ name: 'cluster-modern', version: '2.0.0' }, { capabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } })
  await client.connect(
    new StreamableHTTPClientTransport(new URL(`${cluster.url}/mcp`), {
      fetch: (input, init) => {
        const target = new URL(input)
        const i = n++ % cluster.instances.length
        served.push(i)
        target.port = String(cluster.instances[i]!.port)
        return fetch(target, init)
      },
    }),
  )
  return { client, served }
}

describe.skipIf(!canRunCluster)('2026-07-28 across instances', () => {
  test('a sampling round answered on the next instance continues from the sealed requestState', async () => {
    const { client, served } = await connect({ sampling: {}, elicitation: {} })
    client.setRequestHandler('sampling/createMessage', async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'across' } }))
    client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { username: 'ada', email: 'ada@example.com' } }))
    const before = served.length
    expect((await client.callTool({ name: 'test_sampling', arguments: { prompt: 'p' } })).content).toEqual([{ type: 'text', text: 'LLM response: across' }])
    // The first round and its continuation went to two different instances.
    const rounds = served.slice(before)
    expect(rounds.length).toBeGreaterThanOrEqual(2)
    expect(new Set(rounds).size).toBeGreaterThanOrEqual(2)
    expect(JSON.stringify((await client.callTool({ name: 'test_elicitation', arguments: { message: 'who?' } })).content)).toContain('ada@example.com')
    await client.close()
  })

  test('listen on one instance hears resource updates announced by every instance', async () => {
    const { client } = await connect()
    const updates: string[] = []
    client.setNotificationHandler('notifications/resources/updated', (n) => void updates.push(n.params.uri))
    const subscription = await client.listen({ resourceSubscriptions: ['test://watched-resource'] })
    expect(subscription.honoredFilter).toMatchObject({ resourceSubscriptions: ['test://watched-resource'] })
    // Each of the three instances updates the watched resource every 3 s.
    await until(() => updates.length >= 2, 8000, 'updates from more than one instance')
    await client.close()
  }, 20_000)
})
