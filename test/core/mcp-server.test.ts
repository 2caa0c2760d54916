/**
 * McpServer bookkeeping that no transport shows directly: what shutdown waits for.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startTestServer } from '../_utils/server.ts'
import { until } from '../_utils/wait.ts'

let server: Awaited<ReturnType<typeof startTestServer>>
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.stop())

test('concurrent session-less calls (REST: every call has id 1) are each counted as in flight', async () => {
  const call = () =>
    fetch(`${server.url}/mcp/tool/test_long_operation`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ steps: 10, intervalMs: 30 }) })
  const calls = [call(), call(), call()]
  await until(() => server.core.inFlight === 3, 2000, 'three calls in flight')
  expect((await Promise.all(calls)).map((r) => r.status)).toEqual([200, 200, 200])
  expect(server.core.inFlight).toBe(0)
})
