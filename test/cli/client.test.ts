/**
 * The command-line client (`bun run mcprag search|analyze|generate|tools|call|login`) run as a
 * real process against a running server with authentication on, and the Python REST client
 * (`POST /mcp/tool/{name}`, `{result}` back) against the same server: both work from the outside.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { requestLogin, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'
import { createCodeRepo, type CodeRepo } from '../_utils/code-repo.ts'

let h: Harness
let repo: CodeRepo
let home: string
let member: Login

beforeAll(async () => {
  repo = createCodeRepo()
  home = mkdtempSync(join(tmpdir(), 'mcprag-cli-home-'))
  h = await startHarness({ MCPRAG_INDEX_ROOTS: `fixture=${repo.root}`, MCPRAG_INDEX_WATCH: 'off' })
  member = await signIn(h, 'cli@example.com', 'user')
})
afterAll(async () => {
  await h.stop()
  repo.remove()
  rmSync(home, { recursive: true, force: true })
})

async function run(cmd: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  const proc = Bun.spawn(cmd, { env: { PATH: process.env.PATH ?? '', HOME: home, MCPRAG_URL: h.url, ...env }, stdout: 'pipe', stderr: 'pipe', stdin: 'ignore' })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, out, err }
}
const cli = (...args: string[]) => run(['bun', 'src/cli.ts', ...args])

test('without a token the server refuses, and the client says how to sign in', async () => {
  const r = await cli('search', 'verifyTotp')
  expect(r.code).toBe(1)
  expect(r.err).toContain('401')
  expect(r.err).toContain('bun run mcprag login <email>')
})

test('login with the emailed token saves a bearer token (0600) that later commands use', async () => {
  await signIn(h, 'cli@example.com')
  const { token } = await requestLogin(h, 'cli@example.com')
  const login = await cli('login', 'cli@example.com', '--token', token)
  expect(login.code).toBe(0)
  expect(login.out).toContain('signed in as cli@example.com (tier user)')
  const file = join(home, '.config', 'mcprag', 'token')
  expect(statSync(file).mode & 0o777).toBe(0o600)

  const search = await cli('search', 'check a one-time password', '--limit', '2')
  expect(search.code).toBe(0)
  expect(search.out.split('\n')[0]).toMatch(/^1\. fixture:src\/auth\/totp\.ts:3-9 {2}verifyTotp {2}\[function, [\d.]+\]$/)
  expect(search.out).toContain('     export function verifyTotp(secret: string, code: string, now: number): boolean {')
  expect(search.out).toMatch(/\n\(\d+ of \d+ candidates, auto, [\d.]+ ms, revision [0-9a-f]{12}\)\n$/)

  const json = JSON.parse((await cli('search', 'verifyTotp', '--mode', 'symbol', '--json')).out) as { results: { symbol: string }[] }
  expect(json.results.map((r) => r.symbol)).toEqual(['verifyTotp'])
})

test('analyze, generate, tools and call print readable answers, or JSON with --json', async () => {
  const env = { MCPRAG_TOKEN: member.token }
  const analyze = await run(['bun', 'src/cli.ts', 'analyze', 'src/auth/totp.ts'], env)
  expect(analyze.out.split('\n')[0]).toBe('src/auth/totp.ts (typescript, 9 lines) defines 1 symbols (1 exported), imports 1 module(s), is imported by 2 file(s), max cyclomatic 3 (verifyTotp).')
  expect(analyze.out).toContain('./crypto.ts -> src/auth/crypto.ts {hmacCounter}')
  const symbol = JSON.parse((await run(['bun', 'src/cli.ts', 'analyze', '--symbol', 'completeLogin', '--json'], env)).out) as { target: { path: string } }
  expect(symbol.target.path).toBe('src/auth/login.ts')

  const generate = await run(['bun', 'src/cli.ts', 'generate', 'refuse a login when the code is wrong', '--tokens', '800'], env)
  expect(generate.code).toBe(0)
  expect(generate.out).toContain('Task: refuse a login when the code is wrong')
  expect(generate.out).toContain('(not generated here: the server cannot sample over REST.')

  const tools = await run(['bun', 'src/cli.ts', 'tools'], env)
  expect(tools.out).toMatch(/^search_code\s+user\s+Searches the indexed repositories/m)
  expect(tools.out).not.toContain('index_status')
  const echo = await run(['bun', 'src/cli.ts', 'call', 'echo', '{"text":"hello from the shell"}'], env)
  expect(echo).toMatchObject({ code: 0, out: 'hello from the shell\n' })
  const refused = await run(['bun', 'src/cli.ts', 'call', 'reindex', '{}'], env)
  expect(refused.code).toBe(1)
  expect(refused.err).toContain('403 insufficient_tier')
})

test('usage mistakes exit 2 with what to type', async () => {
  for (const args of [['search'], ['analyze'], ['analyze', 'x.ts', '--symbol', 'y'], ['call'], ['call', 'echo', '[1]'], ['search', 'x', '--limit', 'ten'], ['frobnicate']]) {
    const r = await cli(...args)
    expect({ args, code: r.code }).toEqual({ args, code: 2 })
    expect(r.err.length).toBeGreaterThan(0)
  }
})

test('the Python REST client calls all three tools unchanged', async () => {
  const r = await run(['python3', 'test/_utils/mcprag_rest_client.py', h.url, member.token])
  expect(r.err).toBe('')
  const out = JSON.parse(r.out) as Record<string, unknown>
  expect(out).toEqual({
    search: expect.arrayContaining(['src/auth/totp.ts:verifyTotp']),
    search_text: expect.stringMatching(/^1\. fixture:src\/auth\/totp\.ts:3-9 verifyTotp/),
    analysis: 'src/auth/totp.ts (typescript, 9 lines) defines 1 symbols (1 exported), imports 1 module(s), is imported by 2 file(s), max cyclomatic 3 (verifyTotp).',
    generated: { sampled: false, reason: 'REST call: there is no client model to sample from' },
    generated_prompt: expect.stringContaining('You are a careful software engineer'),
    unknown: { status: 422, body: expect.objectContaining({ error: 'invalid_arguments', fields: ['max_results'] }) },
  })
})
