/**
 * list_changed crosses instances: a change on one instance (here `reindex` finding a new file)
 * reaches the sessions every instance holds, WebSockets included, through the bus.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Cluster } from '../_utils/cluster.ts'
import { until } from '../_utils/wait.ts'
import { McpSocket } from '../_utils/ws.ts'
import { canRunCluster } from './_cluster-support.ts'

const repo = mkdtempSync(join(tmpdir(), 'mcprag-cluster-repo-'))
writeFileSync(join(repo, 'first.ts'), 'export const first = 1\n')
let cluster: Cluster
beforeAll(async () => {
  // Nothing watches the folder or walks it on a timer: only the reindex call below sees the change.
  cluster = await new Cluster({ instances: 3, env: { MCPRAG_INDEX_ROOTS: `app=${repo}`, MCPRAG_INDEX_WATCH: 'off', MCPRAG_INDEX_POLL_S: '0' } }).start()
}, 60_000)
afterAll(async () => {
  await cluster?.stop()
  rmSync(repo, { recursive: true, force: true })
})

describe.skipIf(!canRunCluster)('list_changed across instances', () => {
  test('a reindex on one instance tells the WebSocket sessions held by the others that the resource list changed', async () => {
    const sockets = await Promise.all([1, 2].map((i) => McpSocket.connect(`${cluster.instances[i]!.url.replace('http', 'ws')}/mcp/ws`)))
    writeFileSync(join(repo, 'second.ts'), 'export const second = 2\n')
    const res = await fetch(`${cluster.instances[0]!.url}/mcp/tool/reindex`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ result: { structuredContent: { scans: [expect.objectContaining({ repo: 'app', added: 1 })] } } })
    for (const s of sockets) await until(() => s.messages.some((m) => m.method === 'notifications/resources/list_changed'), 5000, 'resources/list_changed on another instance')
    for (const s of sockets) s.close()
  })
})
