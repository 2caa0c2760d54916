/**
 * The store keeps a file's bytes once, as segments of whole lines that the trigram index covers:
 * reading them back gives the exact bytes, and exact search reports the right line numbers deep
 * inside a large file.
 */
import { afterAll, expect, test } from 'bun:test'
import { segmentsOf, SqliteIndexStore } from '../../src/rag/index-store.ts'
import type { ParsedFile } from '../../src/rag/parsed-file.ts'

const store = new SqliteIndexStore(':memory:')
afterAll(() => store.close())
const parsed = (lines: number): ParsedFile => ({ lang: 'text', lines, chunks: [], symbols: [], refs: [], imports: [] })

test('segments are whole lines that join back to the exact bytes, long lines included', () => {
  const content = `${Array.from({ length: 250 }, (_, i) => `line ${i + 1}`).join('\n')}\n${'x'.repeat(40_000)}\nlast line without newline`
  const segments = segmentsOf(content)
  expect(segments.map((s) => s.text).join('')).toBe(content)
  expect(segments[0]!.startLine).toBe(1)
  expect(segments[1]!.startLine).toBe(1 + segments[0]!.text.split('\n').length - 1)
  // A segment stops at 100 lines, or at the first line that takes it past ~16 KB.
  expect(segments.every((s) => s.text.split('\n').length - 1 <= 100 && (s.text.length <= 16 * 1024 || s.text.endsWith(`${'x'.repeat(40_000)}\n`)))).toBe(true)
  store.writeFiles([{ path: 'big.txt', lang: 'text', size: content.length, mtimeMs: 1, sha256: 'h', content, parsed: parsed(252) }], 0)
  const [row] = store.files()
  expect(store.content(row!.id)).toBe(content)
  const found = [...store.segmentsWithTrigramsOf('line 237')]
  expect(found).toHaveLength(1)
  const at = found[0]!.text.split('\n').findIndex((l) => l === 'line 237')
  expect(found[0]!.start_line + at).toBe(237)
  expect([...store.segmentsWithTrigramsOf('WITHOUT NEWLINE')].map((s) => s.text.includes('last line without newline'))).toEqual([true])
  store.deleteFiles([row!.id])
  expect([...store.segmentsWithTrigramsOf('line 237')]).toEqual([])
  expect(store.content(row!.id)).toBeUndefined()
})
