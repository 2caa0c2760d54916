/**
 * The boot output of a real server process says what was indexed: files and lines per language
 * and what was left out, per repository (and, with nothing configured, how to configure it).
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createCodeRepo } from '../_utils/code-repo.ts'

const repo = createCodeRepo()
const dataDir = mkdtempSync(join(tmpdir(), 'mcprag-boot-'))
afterAll(() => {
  repo.remove()
  rmSync(dataDir, { recursive: true, force: true })
})

async function bootLines(env: Record<string, string>): Promise<string[]> {
  const proc = Bun.spawn(['bun', 'src/index.ts'], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', MCPRAG_AUTH: 'off', MCPRAG_AUDIT_STDOUT: 'off', MCPRAG_DATA_DIR: dataDir, ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let text = ''
  const reader = proc.stdout.getReader()
  const decoder = new TextDecoder()
  while (!text.includes('API docs at')) {
    const { value, done } = await reader.read()
    if (done) break
    text += decoder.decode(value)
  }
  proc.kill('SIGTERM')
  await proc.exited
  return text.split('\n')
}

test('each repository gets a line with files and lines per language, and what was left out', async () => {
  const lines = await bootLines({ MCPRAG_INDEX_ROOTS: `fixture=${repo.root}`, MCPRAG_INDEX_WATCH: 'off' })
  const line = lines.find((l) => l.startsWith('index: fixture'))
  expect(line).toMatch(/^index: fixture \(tier user\): 7 files, 74 lines \[typescript 4 files\/30 lines, go 1 files\/21 lines, python 1 files\/20 lines, markdown 1 files\/3 lines\], revision [0-9a-f]{12}; left out: /)
  expect(line).toContain('3 secret')
  expect(line).toContain('2 symlink')
  expect(lines.some((l) => /^index: ready in \d+ ms; not watching, full walk every 300 s$/.test(l))).toBe(true)
  expect(lines.join('\n')).not.toContain('planted')
})

test('with nothing configured, the boot output says how to configure it', async () => {
  const lines = await bootLines({})
  expect(lines).toContain('index: no repository to index: set MCPRAG_INDEX_ROOTS="name=/path" to serve search_code, analyze_context and generate_code over it')
})
