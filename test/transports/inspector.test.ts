/**
 * The MCP Inspector CLI, a third-party client, over legacy HTTP+SSE. It needs Node ≥ 22.19; the
 * devDependency `node` (npm package node@22) installs one into node_modules, so `bun install`
 * provides everything and the test itself downloads nothing. If that binary is missing or too
 * old, it falls back to `npx -p node@22` (slower: a first run fetches from the npm registry).
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { startTestServer } from '../_utils/server.ts'

const LOCAL_NODE = 'node_modules/node/bin/node'
const LOCAL_INSPECTOR = 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js'
const INSPECTOR_VERSION = '2.12.0'

async function run(cmd: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, CI: 'true' } })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, out, err }
}

/** `node <inspector>` with a Node that satisfies the Inspector's engines field. */
async function inspectorCommand(): Promise<string[]> {
  if (existsSync(LOCAL_NODE) && existsSync(LOCAL_INSPECTOR)) {
    const version = (await run([LOCAL_NODE, '--version'])).out.trim()
    const [major = 0, minor = 0] = version.slice(1).split('.').map(Number)
    if (major > 22 || (major === 22 && minor >= 19)) return [LOCAL_NODE, LOCAL_INSPECTOR]
  }
  return ['npx', '--yes', '-p', 'node@22', '-p', `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`, '--', 'inspector']
}

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
