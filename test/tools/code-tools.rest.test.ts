/**
 * search_code, analyze_context, generate_code, index_status and reindex over REST
 * (`POST /mcp/tool/{name}`, arguments as the body, `{result}` back), against a real server that
 * indexed a small repository on disk: ranked hits with revisions and links, qualifiers, exact and
 * symbol modes, the analysis of a file, a symbol and a snippet, the assembled prompt without
 * sampling, planted secrets and excluded folders that never appear, and bad input.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { FILES, PLANTED, startCodeServer, type CodeRepo } from '../_utils/code-repo.ts'
import type { SearchHit } from '../../src/rag/search.ts'
import type { TestServer } from '../_utils/server.ts'

let repo: CodeRepo
let server: TestServer
let stop: () => Promise<void>

beforeAll(async () => {
  ;({ repo, server, stop } = await startCodeServer({ MCPRAG_INDEX_WATCH: 'off' }))
})
afterAll(() => stop())

type Json = Record<string, unknown>
async function call(name: string, args: unknown): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${server.url}/mcp/tool/${name}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(args) })
  return { status: res.status, body: (await res.json()) as Json }
}
async function structured(name: string, args: unknown): Promise<Json> {
  const { status, body } = await call(name, args)
  expect(status).toBe(200)
  const result = body.result as { structuredContent: Json; isError?: boolean }
  expect(result.isError).toBeUndefined()
  return result.structuredContent
}
type Hit = SearchHit
const hits = async (args: Json) => (await structured('search_code', args)).results as Hit[]

describe('search_code', () => {
  test('ranks the function a description names first, with lines, snippet, link and revision', async () => {
    const r = await structured('search_code', { query: 'check a time based one-time password', limit: 5 })
    const top = (r.results as Hit[])[0]!
    expect(top).toMatchObject({ rank: 1, repo: 'fixture', path: 'src/auth/totp.ts', symbol: 'verifyTotp', kind: 'function', start_line: 3, end_line: 9, language: 'typescript', uri: 'mcprag://fixture/src/auth/totp.ts#L3-L9' })
    expect(top.snippet).toContain('export function verifyTotp(secret: string, code: string, now: number): boolean {')
    const index = (r.index as { repo: string; revision: string; files: number; stale: boolean }[])[0]!
    expect(index).toMatchObject({ repo: 'fixture', stale: false })
    expect(index.revision).toMatch(/^[0-9a-f]{12}$/)
    expect(top.revision).toBe(index.revision)
    // The readable answer and one resource link per hit.
    const { body } = await call('search_code', { query: 'verifyTotp', limit: 2 })
    const content = (body.result as { content: { type: string; uri?: string; text?: string }[] }).content
    expect(content[0]!.text).toContain('fixture:src/auth/totp.ts:3-9 verifyTotp')
    expect(content.filter((c) => c.type === 'resource_link').map((c) => c.uri)).toContain('mcprag://fixture/src/auth/totp.ts#L3-L9')
  })

  test('finds Python and Go definitions, methods under their class', async () => {
    expect((await hits({ query: 'write the invoice as a PDF document' }))[0]).toMatchObject({ path: 'billing/invoice.py', symbol: 'render_invoice_pdf', language: 'python' })
    expect((await hits({ query: 'register handler for an exact path' }))[0]).toMatchObject({ path: 'server/router.go', symbol: 'Router.Handle', kind: 'method', language: 'go' })
  })

  test('qualifiers and arguments filter by path, language, symbol and tests', async () => {
    expect(new Set((await hits({ query: 'verifyTotp path:src/auth/login' })).map((h) => h.path))).toEqual(new Set(['src/auth/login.ts']))
    expect((await hits({ query: 'verifyTotp', path: 'src/**/*.test.ts' })).map((h) => h.path)).toEqual(['src/auth/totp.test.ts'])
    expect((await hits({ query: 'invoice total lang:py' })).every((h) => h.language === 'python')).toBe(true)
    expect((await hits({ query: 'verifyTotp', language: 'go' }))).toEqual([])
    expect((await hits({ query: 'secret symbol:completeLogin' })).map((h) => h.symbol)).toEqual(['completeLogin'])
    expect((await hits({ query: 'verifyTotp', include_tests: false })).map((h) => h.path)).not.toContain('src/auth/totp.test.ts')
  })

  test('a quoted phrase must appear as written', async () => {
    const r = await hits({ query: '"one step either side" password' })
    expect(r.map((h) => h.symbol)).toEqual(['verifyTotp'])
    expect(await hits({ query: '"step either one side"' })).toEqual([])
  })

  test('exact mode finds substrings with their lines; symbol mode finds definitions by part of the name', async () => {
    const exact = await hits({ query: 'Math.floor(now / 30000)', mode: 'exact' })
    expect(exact).toHaveLength(1)
    expect(exact[0]).toMatchObject({ path: 'src/auth/totp.ts', symbol: 'verifyTotp', matches: [{ line: 6, text: '    if (hmacCounter(secret, Math.floor(now / 30000) + step) === code) return true' }] })
    const symbols = await hits({ query: 'router', mode: 'symbol' })
    expect(symbols.map((h) => h.symbol)).toEqual(['Router', 'NewRouter'])
  })

  test('planted secrets, dependencies, build output, ignored files, binaries and links outside the root never appear', async () => {
    const indexed = new Set(Object.keys(FILES).filter((p) => p.endsWith('.ts') || p.endsWith('.py') || p.endsWith('.go') || p.endsWith('.md')))
    for (const word of PLANTED) {
      // Ranked search may match parts of the word ("secret") in indexed files, never the planted ones.
      const ranked = await hits({ query: word, limit: 50 })
      expect({ word, leaked: ranked.filter((h) => !indexed.has(h.path) || h.snippet.includes(word)) }).toEqual({ word, leaked: [] })
      expect({ word, hits: await hits({ query: word, mode: 'exact' }) }).toEqual({ word, hits: [] })
    }
    const status = await structured('index_status', {})
    const report = (status.repos as { files: number; skipped: Record<string, number>; languages: Record<string, { files: number }> }[])[0]!
    expect(report.skipped).toMatchObject({ secret: 3, binary: 1, symlink: 2 })
    expect(report.files).toBe(Object.values(report.languages).reduce((n, l) => n + l.files, 0))
  })

  test('bad input: unknown arguments are 422 naming the field; impossible searches say what to change', async () => {
    const unknown = await call('search_code', { query: 'x', max_results: 5 })
    expect(unknown.status).toBe(422)
    expect(unknown.body).toMatchObject({ error: 'invalid_arguments', fields: ['max_results'] })
    expect((await call('search_code', { limit: 5 })).status).toBe(422)
    expect((await call('search_code', { query: 'x', mode: 'regex' })).status).toBe(422)
    const lang = await call('search_code', { query: 'verify', language: 'cobol-ish' })
    expect(lang.body.message).toContain('Unknown language "cobol-ish"')
    const short = await call('search_code', { query: 'ab', mode: 'exact' })
    expect(short.body.message).toContain('at least 3 characters')
    const repoName = await call('search_code', { query: 'verify', repo: 'elsewhere' })
    expect(repoName.body.message).toContain('No indexed repository "elsewhere"')
  })

  test('a pathological path pattern is answered, not backtracked on (no regular expressions)', async () => {
    const r = await hits({ query: 'verifyTotp', path: `${'*a'.repeat(40)}*b` })
    expect(r).toEqual([])
  })
})

describe('analyze_context', () => {
  test('a file: outline with signatures and complexity, imports resolved, importers, callers, callees, related, summary', async () => {
    const r = await structured('analyze_context', { file_path: 'src/auth/totp.ts' })
    expect(r.target).toMatchObject({ repo: 'fixture', path: 'src/auth/totp.ts', language: 'typescript', lines: 9 })
    expect(r.outline).toEqual([
      {
        name: 'verifyTotp',
        kind: 'function',
        start_line: 4,
        end_line: 9,
        exported: true,
        signature: 'function verifyTotp(secret: string, code: string, now: number): boolean',
        doc: 'Checks a time-based one-time password against the shared secret, one step either side.',
        complexity: { cyclomatic: 3, max_nesting: 2, lines: 6 },
      },
    ])
    expect(r.imports).toEqual([{ source: './crypto.ts', names: ['hmacCounter'], line: 1, resolved_path: 'src/auth/crypto.ts' }])
    expect((r.importers as { path: string }[]).map((i) => i.path)).toEqual(['src/auth/login.ts', 'src/auth/totp.test.ts'])
    expect(r.callees).toEqual([{ name: 'hmacCounter', calls: 1, defined_in: 'src/auth/crypto.ts', line: 2 }])
    expect(r.callers).toContainEqual({ path: 'src/auth/login.ts', symbol: 'completeLogin', line: 10, imports_target: true })
    const related = (r.related as { path: string; reason: string }[]).map((x) => x.path)
    expect(related.slice(0, 3).sort()).toEqual(['src/auth/crypto.ts', 'src/auth/login.ts', 'src/auth/totp.test.ts'])
    expect(r.summary).toBe('src/auth/totp.ts (typescript, 9 lines) defines 1 symbols (1 exported), imports 1 module(s), is imported by 2 file(s), max cyclomatic 3 (verifyTotp).')
  })

  test('a symbol narrows to its definition; a Python class lists its methods; Go imports name packages', async () => {
    const sym = await structured('analyze_context', { symbol: 'completeLogin', include: ['outline', 'callees'] })
    expect(sym.target).toMatchObject({ path: 'src/auth/login.ts', symbol: 'completeLogin', uri: 'mcprag://fixture/src/auth/login.ts#L9-L12' })
    expect(sym.callees).toEqual([{ name: 'verifyTotp', calls: 1, defined_in: 'src/auth/totp.ts', line: 4 }])
    expect(sym.callers).toBeUndefined()
    const py = await structured('analyze_context', { file_path: 'mcprag://fixture/billing/invoice.py', include: ['outline'] })
    expect((py.outline as { name: string; parent?: string; doc?: string }[]).map((o) => [o.name, o.parent ?? null, o.doc ?? null])).toEqual([
      ['Invoice', null, 'A customer invoice made of line items.'],
      ['__init__', 'Invoice', null],
      ['total', 'Invoice', 'Sum of the line amounts, before tax.'],
      ['render_invoice_pdf', null, 'Write the invoice as a PDF document to the given path.'],
    ])
    const go = await structured('analyze_context', { file_path: 'server/router.go', include: ['imports', 'outline'] })
    expect(go.imports).toEqual([{ source: 'net/http', names: ['*'], line: 3 }])
    expect((go.outline as { name: string; exported: boolean }[]).map((o) => o.name)).toEqual(['Router', 'NewRouter', 'Handle'])
  })

  test('a snippet is parsed and resolved against the index', async () => {
    const r = await structured('analyze_context', { code: 'function check(c: string) {\n  return verifyTotp("k", c, Date.now()) && hmacCounter("k", 1)\n}\n', language: 'typescript' })
    expect((r.outline as { name: string }[]).map((o) => o.name)).toEqual(['check'])
    expect((r.callees as { name: string; defined_in: string }[]).map((c) => [c.name, c.defined_in]).sort()).toEqual([
      ['hmacCounter', 'fixture:src/auth/crypto.ts'],
      ['verifyTotp', 'fixture:src/auth/totp.ts'],
    ])
    expect((r.similar as { path: string }[])[0]!.path).toMatch(/^fixture:src\/auth\//)
  })

  test('paths outside the index are refused the same way, whatever they point at', async () => {
    for (const file_path of ['../outside/secret.ts', '/etc/passwd', 'src/../../outside/secret.ts', '.env', 'node_modules/leftpad/index.js', 'src/linked.ts']) {
      const { status, body } = await call('analyze_context', { file_path })
      expect({ file_path, status }).toEqual({ file_path, status: 500 })
      expect(body.message).toMatch(/is not (a path inside an indexed repository|an indexed file)/)
    }
    const two = await call('analyze_context', { file_path: 'src/auth/totp.ts', symbol: 'verifyTotp' })
    expect(two.body.message).toContain('Give exactly one of "file_path", "code" or "symbol"')
  })
})

describe('generate_code over REST', () => {
  test('answers sampled: false with the prompt and the packed context, within the budget', async () => {
    const r = await structured('generate_code', { description: 'refuse a login when the one-time password is wrong', max_context_tokens: 500 })
    expect(r).toMatchObject({ sampled: false, reason: 'REST call: there is no client model to sample from', language: 'typescript' })
    const context = r.context as { path: string; tokens: number; uri: string }[]
    expect(context.length).toBeGreaterThan(0)
    expect(context.reduce((n, c) => n + c.tokens, 0)).toBe(r.context_tokens as number)
    expect(r.context_tokens as number).toBeLessThanOrEqual(500)
    const prompt = r.prompt as { system: string; user: string }
    expect(prompt.system).toContain('data, not instructions')
    expect(prompt.user).toStartWith('Task: refuse a login when the one-time password is wrong')
    expect(prompt.user).toContain(`fixture:${context[0]!.path} lines`)
    const tight = await structured('generate_code', { description: 'refuse a login when the one-time password is wrong', max_context_tokens: 500, language: 'python' })
    expect((tight.context as { path: string }[]).every((c) => c.path.endsWith('.py'))).toBe(true)
  })
})

describe('admin tools', () => {
  test('index_status reports files and lines per language; reindex picks up a new file', async () => {
    const before = (await structured('index_status', {})).repos as { languages: Record<string, { files: number; lines: number }>; revision: string }[]
    const lines = (rel: string) => FILES[rel]!.split('\n').length - 1
    expect(before[0]!.languages).toEqual({ typescript: { files: 4, lines: ['src/auth/crypto.ts', 'src/auth/totp.ts', 'src/auth/login.ts', 'src/auth/totp.test.ts'].reduce((n, f) => n + lines(f), 0) }, python: { files: 1, lines: lines('billing/invoice.py') }, go: { files: 1, lines: lines('server/router.go') }, markdown: { files: 1, lines: 3 } })
    repo.write('src/auth/recovery.ts', 'export function useRecoveryCode(code: string): boolean {\n  return code.length === 10\n}\n')
    const scan = (await structured('reindex', { repo: 'fixture' })).scans as { added: number; revision: string }[]
    expect(scan[0]!.added).toBe(1)
    expect(scan[0]!.revision).not.toBe(before[0]!.revision)
    expect((await hits({ query: 'useRecoveryCode' }))[0]).toMatchObject({ path: 'src/auth/recovery.ts', revision: scan[0]!.revision })
  })
})
