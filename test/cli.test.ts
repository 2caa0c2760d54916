/**
 * The operator command (`bun run mcprag user …`) run as a real process against the data directory
 * of a running server: the users and tokens it makes are the server's.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startAuthServer, type TestServer } from './_utils/server.ts'

const dir = mkdtempSync(join(tmpdir(), 'mcprag-cli-'))
const keys = { MCPRAG_JWT_SECRET: 'j'.repeat(20) + crypto.randomUUID(), MCPRAG_TOTP_KEY: 't'.repeat(20) + crypto.randomUUID() }
let server: TestServer

async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(['bun', 'src/cli.ts', ...args], {
    env: { PATH: process.env.PATH ?? '', MCPRAG_DATA_DIR: dir, MCPRAG_PUBLIC_URL: server.url, ...keys },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, out, err }
}

beforeAll(async () => {
  server = await startAuthServer({ MCPRAG_DATA_DIR: dir, ...keys })
})
afterAll(async () => {
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
})

test('user create, set-tier and list manage the server\'s users; bad input exits 2 with a reason', async () => {
  expect((await cli('user', 'create', 'Ops@Example.com', '--tier', 'user')).code).toBe(0)
  expect(await server.auth!.stores.users.getByEmail('ops@example.com')).toMatchObject({ tier: 'user' })
  const dup = await cli('user', 'create', 'ops@example.com')
  expect(dup.code).not.toBe(0)
  expect(dup.err).toContain('already exists')
  const bad = await cli('user', 'set-tier', 'ops@example.com', 'root')
  expect(bad).toMatchObject({ code: 2 })
  expect(bad.err).toContain('tier must be one of public, user, admin')
  expect((await cli('user', 'set-tier', 'ops@example.com', 'admin')).code).toBe(0)
  const list = await cli('user', 'list')
  expect(list.out).toMatch(/^ops@example\.com\tadmin\t-\t/m)
  expect((await cli('user', 'frobnicate')).code).toBe(2)
})

test('user token mints a bearer token the server accepts, and user revoke ends it', async () => {
  await cli('user', 'create', 'script@example.com', '--tier', 'user')
  const minted = await cli('user', 'token', 'script@example.com', '--ttl', '2h')
  expect(minted.code).toBe(0)
  const token = minted.out.trim()
  expect(token.split('.')).toHaveLength(3)
  const call = () =>
    fetch(`${server.url}/mcp/tool/whoami`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{}' })
  const ok = await call()
  expect(ok.status).toBe(200)
  expect(((await ok.json()) as { result: { structuredContent: unknown } }).result.structuredContent).toMatchObject({ email: 'script@example.com', tier: 'user' })
  expect((await cli('user', 'token', 'script@example.com', '--ttl', '1000d')).code).toBe(2)
  expect((await cli('user', 'revoke', 'script@example.com')).out).toContain('revoked 1 session(s)')
  expect((await call()).status).toBe(401)
})
