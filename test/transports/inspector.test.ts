/**
 * The MCP Inspector CLI, a third-party client, over legacy HTTP+SSE (see test/_utils/inspector.ts
 * for how it is run). Its 2026-07-28 mode is in inspector.modern.test.ts.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { inspectorCommand, run } from '../_utils/inspector.ts'
import { startTestServer } from '../_utils/server.ts'

let server: Awaited<ReturnType<typeof startTestServer>>
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.stop())

test('inspector --cli <url>/sse --transport sse --method tools/list lists the tools', async () => {
  const inspector = await inspectorCommand()
  const { code, out, err } = await run([...inspector, '--cli', `${server.url}/sse`, '--transport', 'sse', '--method', 'tools/list'])
  if (code !== 0) console.error(`inspector exited ${code}:`, err)
  expect(code).toBe(0)
  const names = (JSON.parse(out) as { tools: { name: string }[] }).tools.map((t) => t.name)
  expect(names).toEqual(expect.arrayContaining(['echo', 'test_simple_text', 'test_tool_with_progress', 'test_sampling']))
}, 180_000)

test('inspector --cli <url>/mcp/sse --transport sse calls a tool', async () => {
  const inspector = await inspectorCommand()
  const { code, out, err } = await run([
    ...inspector, '--cli', `${server.url}/mcp/sse`, '--transport', 'sse', '--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'text=from the inspector',
  ])
  if (code !== 0) console.error(`inspector exited ${code}:`, err)
  expect(code).toBe(0)
  expect(JSON.parse(out)).toMatchObject({ content: [{ type: 'text', text: 'from the inspector' }] })
}, 180_000)
