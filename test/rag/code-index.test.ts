/**
 * The index's lifecycle without a server: what is persisted survives a restart, and a restart (or
 * a walk) re-parses only what changed — a touched but identical file is hashed, not parsed — while
 * the revision follows the content, not the order of events.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, unlinkSync, utimesSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CodeIndex, type IndexSettings } from '../../src/rag/code-index.ts'
import { ParserPool } from '../../src/rag/parser-pool.ts'
import type { RepoConfig } from '../../src/rag/repo-config.ts'
import { searchCode } from '../../src/rag/search.ts'
import { createCodeRepo } from '../_utils/code-repo.ts'

const repo = createCodeRepo()
const dataDir = mkdtempSync(join(tmpdir(), 'mcprag-index-'))
const pool = new ParserPool(1)
afterAll(() => {
  pool.close()
  repo.remove()
  rmSync(dataDir, { recursive: true, force: true })
})
const config: RepoConfig = { name: 'fixture', path: repo.root, rootReal: repo.root, tier: 'user' }
const settings: IndexSettings = { repos: [config], dataDir, maxFileBytes: 1 << 20, pollMs: 0, watch: false }
const symbols = (index: CodeIndex, query: string) => searchCode(index, { query }, [...index.repos.values()]).results.map((h) => `${h.path}:${h.symbol}`)

test('a restart loads the persisted index and walks only what changed while it was down', async () => {
  const first = await CodeIndex.open(settings, pool)
  const state = first.repos.get('fixture')!
  const files = state.files.size
  const revision = first.revision(state)
  expect(symbols(first, 'verifyTotp')[0]).toBe('src/auth/totp.ts:verifyTotp')
  first.close()

  // While it is down: one edit, one removal, one touch without a change.
  repo.write('src/auth/crypto.ts', 'export function hmacCounter(key: string, counter: number): string {\n  return key + counter\n}\nexport function constantTimeEquals(a: string, b: string) {\n  return a === b\n}\n')
  unlinkSync(join(repo.root, 'server/router.go'))
  utimesSync(join(repo.root, 'billing/invoice.py'), new Date(), new Date(Date.now() + 5000))

  const second = await CodeIndex.open(settings, pool)
  const again = second.repos.get('fixture')!
  expect(again.files.size).toBe(files - 1)
  expect(symbols(second, 'constantTimeEquals')[0]).toBe('src/auth/crypto.ts:constantTimeEquals')
  expect(symbols(second, 'NewRouter')).not.toContain('server/router.go:NewRouter')
  expect(second.revision(again)).not.toBe(revision)
  // Nothing else changed: a walk now finds every file unchanged.
  expect(await second.scan('fixture')).toMatchObject({ added: 0, changed: 0, removed: 0, unchanged: files - 1 })

  // Putting the file back restores the revision: it is a digest of contents, not a counter.
  repo.write('server/router.go', (await import('../_utils/code-repo.ts')).FILES['server/router.go']!)
  repo.write('src/auth/crypto.ts', (await import('../_utils/code-repo.ts')).FILES['src/auth/crypto.ts']!)
  const back = await second.scan('fixture')
  expect(back).toMatchObject({ added: 1, changed: 1, removed: 0 })
  expect(second.revision(again)).toBe(revision)
  second.close()
})
