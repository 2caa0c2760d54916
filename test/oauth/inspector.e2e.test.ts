/**
 * The MCP Inspector CLI (2.12.0, on the Node 22 the `node` devDependency installs), unmodified:
 * with MCP_AUTO_OPEN_ENABLED=true it runs the OAuth flow and opens `$BROWSER` (the scripted agent)
 * instead of asking a terminal, receives the code on its loopback callback, and lists the tools.
 * A second run with `--stored-auth-only` (never interactive) lists them from the stored tokens.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import type { Harness } from '../_utils/auth.ts'
import { registrations as countRegistrations, startCliWorld, type CliWorld } from '../_utils/oauth.ts'

const NODE = 'node_modules/node/bin/node'
const INSPECTOR = 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js'

let world: CliWorld
let h: Harness
let home: string
let agent: CliWorld['agent']
beforeAll(async () => {
  world = await startCliWorld()
  ;({ h, home, agent } = world)
})
afterAll(() => world.stop())

const registrations = () => countRegistrations(h)
const callbackPort = 20000 + Math.floor(Math.random() * 20000)

async function inspect(...extra: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(
    [NODE, INSPECTOR, '--cli', `${h.url}/mcp`, '--transport', 'http', '--method', 'tools/list', '--callback-url', `http://127.0.0.1:${callbackPort}/oauth/callback`, ...extra],
    {
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
      env: { PATH: process.env.PATH ?? '', HOME: home, CI: 'true', MCP_AUTO_OPEN_ENABLED: 'true', MCP_INSPECTOR_SECRET_STORE: 'file', BROWSER: agent.command },
    },
  )
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, out, err }
}

test.skipIf(!existsSync(NODE))('first run signs in through the browser and lists the tools', async () => {
  const before = await registrations()
  const { code, out, err } = await inspect()
  if (code !== 0) console.error(err, agent.errors)
  expect(code).toBe(0)
  expect((JSON.parse(out) as { tools: { name: string }[] }).tools.map((t) => t.name)).toContain('echo')
  expect(agent.results).toHaveLength(1)
  expect(await registrations()).toBe(before + 1)
}, 120_000)

test.skipIf(!existsSync(NODE))('second run uses only the stored credentials: no registration, no browser', async () => {
  const before = await registrations()
  const { code, out, err } = await inspect('--stored-auth-only')
  if (code !== 0) console.error(err)
  expect(code).toBe(0)
  expect((JSON.parse(out) as { tools: unknown[] }).tools.length).toBeGreaterThan(0)
  expect(agent.opened).toHaveLength(1)
  expect(await registrations()).toBe(before)
}, 120_000)
