/**
 * mcp-remote (npm `mcp-remote`, its `mcp-remote-client` entry), unmodified, as a person runs it:
 * it discovers the authorization server, registers, opens "the browser" (`$BROWSER`, here the
 * scripted agent, which signs in by email and consents) and receives the code on its own loopback
 * callback, then lists the tools. A second run reuses its stored client and tokens: no
 * registration and no browser.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Harness } from '../_utils/auth.ts'
import { registrations as countRegistrations, startCliWorld, type CliWorld } from '../_utils/oauth.ts'

const CLIENT = 'node_modules/mcp-remote/dist/client.js'
/** The Node the `node` devDependency installs, else the machine's (mcp-remote needs Node ≥ 18). */
const NODE = existsSync('node_modules/node/bin/node') ? 'node_modules/node/bin/node' : 'node'

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

/** Run the client until it says it is done; stdin stays open (it exits on EOF). */
async function runClient(): Promise<{ code: number; err: string }> {
  const port = String(20000 + Math.floor(Math.random() * 20000))
  const proc = Bun.spawn([NODE, CLIENT, `${h.url}/mcp`, port, '--host', '127.0.0.1'], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
    env: { PATH: process.env.PATH ?? '', HOME: home, MCP_REMOTE_CONFIG_DIR: join(home, 'mcp-auth'), BROWSER: agent.command },
  })
  let err = ''
  const decoder = new TextDecoder()
  const timer = setTimeout(() => proc.kill(), 60_000)
  for await (const chunk of proc.stderr) {
    err += decoder.decode(chunk)
    if (err.includes('Exiting OK') || err.includes('Fatal error')) break
  }
  clearTimeout(timer)
  proc.stdin.end()
  const code = await proc.exited
  return { code, err }
}

test('first run: registers, signs in through the browser, lists the tools', async () => {
  const before = await registrations()
  const { err } = await runClient()
  if (!err.includes('Exiting OK')) console.error(err, agent.errors)
  expect(err).toContain('Tools:')
  expect(err).toContain('Exiting OK')
  expect(agent.errors).toEqual([])
  expect(agent.results).toHaveLength(1)
  expect(agent.results[0]!.redirect.searchParams.get('iss')).toBe(h.url)
  expect(await registrations()).toBe(before + 1)
}, 90_000)

test('second run: the stored credentials are used, no registration, no browser', async () => {
  const before = await registrations()
  const { err } = await runClient()
  expect(err).toContain('Exiting OK')
  expect(agent.opened).toHaveLength(1)
  expect(await registrations()).toBe(before)
}, 90_000)
