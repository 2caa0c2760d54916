/**
 * Tiers for the code tools with authentication on. A repository is `user` unless configured
 * `:public`; the code tools take the lowest tier of the repositories and then show each caller
 * only what it may read, in results, resources and completions alike. `generate_code` (and its
 * prompt) stays `user`; `index_status` and `reindex` are admin tools, audited.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { bearer, enrolTotp, mcpCall, mcpSession, restPost, signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'

const base = mkdtempSync(join(tmpdir(), 'mcprag-tiers-'))
function repo(name: string, file: string, content: string): string {
  const root = join(base, name)
  mkdirSync(root, { recursive: true })
  writeFileSync(join(root, file), content)
  return root
}
const privateRoot = repo('private', 'payroll.ts', 'export function computePayrollTax(salary: number): number {\n  return salary * 0.2\n}\n')
const openRoot = repo('open', 'greeting.ts', 'export function greetVisitor(name: string): string {\n  return `welcome ${name}`\n}\n')

afterAll(() => rmSync(base, { recursive: true, force: true }))

const post = (h: Harness, tool: string, args: unknown, token: string) => restPost(`${h.url}/mcp/tool/${tool}`, args, bearer(token))
const paths = async (res: Response) => ((await res.json()) as { result: { structuredContent: { results: { repo: string; path: string }[] } } }).result.structuredContent.results.map((r) => `${r.repo}:${r.path}`)

describe('with one public and one private repository', () => {
  let h: Harness
  let visitor: Login
  let member: Login
  let admin: Login
  beforeAll(async () => {
    h = await startHarness({ MCPRAG_INDEX_ROOTS: `private=${privateRoot},open=${openRoot}:public`, MCPRAG_INDEX_WATCH: 'off' })
    visitor = await signIn(h, 'visitor@example.com', 'public')
    member = await signIn(h, 'member@example.com', 'user')
    admin = await signIn(h, 'admin@example.com', 'admin')
  })
  afterAll(() => h.stop())

  test('a public caller searches and analyzes only the public repository', async () => {
    const tools = ((await (await fetch(`${h.url}/mcp/tools`, { headers: bearer(visitor.token) })).json()) as { tools: { name: string; tier: string }[] }).tools
    expect(tools.filter((t) => ['search_code', 'analyze_context', 'generate_code'].includes(t.name)).map((t) => [t.name, t.tier])).toEqual([
      ['search_code', 'public'],
      ['analyze_context', 'public'],
    ])
    expect(await paths(await post(h, 'search_code', { query: 'computePayrollTax greetVisitor' }, visitor.token))).toEqual(['open:greeting.ts'])
    expect(await paths(await post(h, 'search_code', { query: 'computePayrollTax greetVisitor' }, member.token))).toEqual(expect.arrayContaining(['open:greeting.ts', 'private:payroll.ts']))
    const asked = await post(h, 'search_code', { query: 'salary', repo: 'private' }, visitor.token)
    expect(((await asked.json()) as { message: string }).message).toBe('No indexed repository "private" that you may read: use one of open')
    const analyzed = await post(h, 'analyze_context', { file_path: 'mcprag://private/payroll.ts' }, visitor.token)
    expect(((await analyzed.json()) as { message: string }).message).toContain('is not an indexed file')
    expect(await paths(await post(h, 'search_code', { query: 'salary', mode: 'exact' }, visitor.token))).toEqual([])
  })

  test('generate_code and its prompt stay user-tier', async () => {
    const refused = await post(h, 'generate_code', { description: 'greet a visitor' }, visitor.token)
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: 'insufficient_tier', required_tier: 'user' })
    expect((await post(h, 'generate_code', { description: 'greet a visitor' }, member.token)).status).toBe(200)
    const session = await mcpSession(h, visitor.token)
    const prompt = await mcpCall(h, session, 'prompts/get', { name: 'generate_code', arguments: { description: 'greet a visitor' } })
    expect(prompt.body.error).toMatchObject({ code: -32003, data: { reason: 'insufficient_tier', required_tier: 'user' } })
  })

  test('resources, reads and completions follow the repository tier', async () => {
    const visit = await mcpSession(h, visitor.token)
    const list = await mcpCall(h, visit, 'resources/list', {})
    expect(((list.body.result as { resources: { uri: string }[] }).resources).map((r) => r.uri)).toEqual(['mcprag://open/greeting.ts'])
    const read = await mcpCall(h, visit, 'resources/read', { uri: 'mcprag://private/payroll.ts' }, 2)
    expect(read.body.error).toMatchObject({ code: -32002 })
    const done = await mcpCall(h, visit, 'completion/complete', { ref: { type: 'ref/resource', uri: 'mcprag://{repo}/{+path}' }, argument: { name: 'repo', value: '' } }, 3)
    expect((done.body.result as { completion: { values: string[] } }).completion.values).toEqual(['open'])
    const member_ = await mcpSession(h, member.token)
    const readOk = await mcpCall(h, member_, 'resources/read', { uri: 'mcprag://private/payroll.ts' })
    expect(((readOk.body.result as { contents: { text: string }[] }).contents[0]!.text)).toContain('computePayrollTax')
  })

  test('index_status and reindex are admin tools that need MFA, and leave audit records', async () => {
    expect(await (await post(h, 'index_status', {}, member.token)).json()).toMatchObject({ error: 'insufficient_tier', required_tier: 'admin' })
    expect(await (await post(h, 'reindex', {}, admin.token)).json()).toMatchObject({ error: 'mfa_required' })
    // Enrolling confirms with a code, which verifies this session.
    await enrolTotp(h, admin)
    const status = await post(h, 'index_status', {}, admin.token)
    expect(status.status).toBe(200)
    const repos = ((await status.json()) as { result: { structuredContent: { repos: { repo: string; tier: string; files: number }[] } } }).result.structuredContent.repos
    expect(repos.map((r) => [r.repo, r.tier, r.files])).toEqual([['private', 'user', 1], ['open', 'public', 1]])
    expect((await post(h, 'reindex', { repo: 'open' }, admin.token)).status).toBe(200)
    const audit = await post(h, 'audit_query', { tool: 'reindex' }, admin.token)
    const records = ((await audit.json()) as { result: { structuredContent: { records: { tool: string; outcome: string; email: string }[] } } }).result.structuredContent.records
    expect(records.map((r) => [r.tool, r.outcome, r.email])).toEqual([['reindex', 'ok', 'admin@example.com'], ['reindex', 'denied', 'admin@example.com']])
  })
})

describe('with only private repositories', () => {
  test('every code tool is user-tier: a public caller is refused and sees none of them', async () => {
    const h = await startHarness({ MCPRAG_INDEX_ROOTS: `private=${privateRoot}`, MCPRAG_INDEX_WATCH: 'off' })
    try {
      const visitor = await signIn(h, 'visitor@example.com', 'public')
      const tools = ((await (await fetch(`${h.url}/mcp/tools`, { headers: bearer(visitor.token) })).json()) as { tools: { name: string }[] }).tools.map((t) => t.name)
      expect(tools).toEqual(['echo'])
      const refused = await post(h, 'search_code', { query: 'salary' }, visitor.token)
      expect(refused.status).toBe(403)
      expect(await refused.json()).toMatchObject({ error: 'insufficient_tier', required_tier: 'user' })
      const list = await mcpCall(h, await mcpSession(h, visitor.token), 'resources/list', {})
      expect((list.body.result as { resources: unknown[] }).resources).toEqual([])
    } finally {
      await h.stop()
    }
  })
})
