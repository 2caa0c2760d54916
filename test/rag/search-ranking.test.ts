/**
 * Ranking through `searchCode`: a description finds a glued lowercase name
 * and an abbreviated one, a definition whose name the query spells out in full outranks a
 * neighbour that only shares some of its words, numbers in a query find names that contain them,
 * and hits come best first whatever was re-scored.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CodeIndex } from '../../src/rag/code-index.ts'
import { ParserPool } from '../../src/rag/parser-pool.ts'
import { searchCode } from '../../src/rag/search.ts'

const FILES: Record<string, string> = {
  'tracing.py': `def settrace(func):
    global _hook
    _hook = func

def gettrace():
    return _hook

def trace_lines(frame):
    for line in frame.lines:
        print(line)
`,
  'opts.ts': `export function mergeOpts(defaults: object, given: object) {
  return { ...defaults, ...given }
}

export function optionNames(list: string[]) {
  return list.map((o) => o.trim())
}
`,
  'build.py': `def get_build_version():
    return _read("VERSION")

def build(target):
    return compile(target)

def version_string(v):
    return ".".join(map(str, v))
`,
  'headers.py': `def parse_header_line(text):
    key, _, value = text.partition(":")
    return key.strip(), value.strip()

def read_headers(stream, parse=None):
    # Each header line is parsed until a blank line; the parse of a folded header line
    # continues the previous header.
    headers = []
    for line in stream:
        if not line.strip():
            break
        headers.append(parse(line) if parse else line)
    return headers
`,
  'hashes.ts': `export function sha256(data: Uint8Array) {
  return digest('SHA-256', data)
}

export function sha512(data: Uint8Array) {
  return digest('SHA-512', data)
}
`,
}

let root: string
let dataDir: string
let index: CodeIndex
const pool = new ParserPool(1)

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'mcprag-ranking-'))
  dataDir = mkdtempSync(join(tmpdir(), 'mcprag-ranking-data-'))
  for (const [rel, content] of Object.entries(FILES)) {
    mkdirSync(join(root, rel, '..'), { recursive: true })
    writeFileSync(join(root, rel), content)
  }
  index = await CodeIndex.open({ repos: [{ name: 'r', path: root, rootReal: root, tier: 'user' }], dataDir, maxFileBytes: 1 << 20, pollMs: 0, watch: false }, pool)
})
afterAll(() => {
  index.close()
  pool.close()
  rmSync(root, { recursive: true, force: true })
  rmSync(dataDir, { recursive: true, force: true })
})

const search = (query: string, limit = 10) => searchCode(index, { query, limit }, [...index.repos.values()]).results
const first = (query: string) => search(query)[0]?.symbol

test('a description finds a name glued from its words, or abbreviated', () => {
  expect(first('Set a trace function for all threads')).toBe('settrace')
  expect(first('Merges default options and the given options')).toBe('mergeOpts')
})

test('the definition whose name the query spells out comes before neighbours that share some of its words', () => {
  expect(first('Return the version used to build Python')).toBe('get_build_version')
  expect(first('Parse one header line into its key and value')).toBe('parse_header_line')
})

test('numbers in a query find the names that contain them', () => {
  expect(first('SHA-512 digest of the data')).toBe('sha512')
  expect(first('SHA-256 digest of the data')).toBe('sha256')
})

test('hits come best first, every one of the candidates considered', () => {
  const hits = search('version build string trace options digest data', 50)
  expect(hits.length).toBeGreaterThan(5)
  for (let i = 1; i < hits.length; i++) expect(hits[i]!.score).toBeLessThanOrEqual(hits[i - 1]!.score)
})
