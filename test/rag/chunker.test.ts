/**
 * Chunking with the real grammars (web-tree-sitter + @vscode/tree-sitter-wasm): definitions become
 * chunks with their doc comments, long classes split into methods, leftover lines into module
 * chunks; symbols carry signatures, docs and complexity; calls and imports are collected; text
 * without a grammar, and minified code, falls back to line windows.
 */
import { expect, test } from 'bun:test'
import { WINDOW_LINES } from '../../src/rag/chunker.ts'
import { parseSource } from '../../src/rag/parse-source.ts'

test('TypeScript: definitions with their doc comment, module lines between them, imports and calls', async () => {
  const src = [
    "import { a, b as c } from './dep.ts'",
    "export * from './reexport.ts'",
    '',
    'const LIMIT = 3',
    '',
    '/** Adds two numbers. */',
    'export function add(x: number, y: number): number {',
    '  return a(x) + c.sum(y)',
    '}',
    '',
    'export const double = (n: number) => add(n, n)',
    'export interface Shape { area(): number }',
    'export type Id = string',
    'enum Color { Red, Green }',
  ].join('\n')
  const p = await parseSource(src, 'typescript')
  expect(p.chunks.map((c) => [c.startLine, c.endLine, c.kind, c.symbol])).toEqual([
    [1, 5, 'module', ''],
    [6, 9, 'function', 'add'],
    [11, 11, 'function', 'double'],
    [12, 12, 'interface', 'Shape'],
    [13, 13, 'type', 'Id'],
    [14, 14, 'enum', 'Color'],
  ])
  expect(p.symbols[0]).toEqual({ name: 'add', kind: 'function', line: 7, endLine: 9, exported: true, signature: 'function add(x: number, y: number): number', doc: 'Adds two numbers.', cyclomatic: 1, maxNesting: 0 })
  expect(p.imports).toEqual([
    { source: './dep.ts', names: ['a', 'b'], line: 1 },
    { source: './reexport.ts', names: [], line: 2 },
  ])
  expect(p.refs).toEqual([
    { name: 'a', line: 8 },
    { name: 'sum', line: 8 },
    { name: 'add', line: 11 },
  ])
})

test('stripping docs leaves the doc comment out of the ranked text only', async () => {
  const src = '/** Parses the flag. */\nexport function parseFlag(s: string) {\n  return s === "on"\n}\n'
  const kept = await parseSource(src, 'typescript')
  const stripped = await parseSource(src, 'typescript', { stripDocs: true })
  expect(kept.chunks[0]!.text).toContain('Parses the flag')
  expect(stripped.chunks[0]!.text).not.toContain('Parses the flag')
  expect(stripped.chunks[0]!.text).toContain('export function parseFlag(s: string) {')
  expect(stripped.symbols[0]!.doc).toBe('Parses the flag.')
})

test('a class longer than 80 lines is split into its methods; complexity counts decisions and nesting', async () => {
  const filler = Array.from({ length: 80 }, (_, i) => `    const v${i} = ${i}`).join('\n')
  const src = `export class Big {\n  field = 1\n  /** The first. */\n  first(x: number) {\n    if (x > 1 && x < 5) {\n      for (const y of [x]) { if (y) return y }\n    }\n    return x > 0 ? 1 : 2\n  }\n  second() {\n${filler}\n  }\n}\n`
  const p = await parseSource(src, 'typescript')
  expect(p.chunks.map((c) => [c.kind, c.symbol, c.parent ?? null, c.startLine])).toEqual([
    ['class', 'Big', null, 1],
    ['method', 'first', 'Big', 3],
    ['method', 'second', 'Big', 10],
  ])
  const first = p.symbols.find((s) => s.name === 'first')!
  // if, &&, for, if, ?: → 1 + 5; the inner if sits two levels deep.
  expect([first.cyclomatic, first.maxNesting, first.parent, first.doc]).toEqual([6, 3, 'Big', 'The first.'])
})

test('Python: classes, methods, decorated functions, docstrings and imports', async () => {
  const src = 'import os.path, json as j\nfrom .models import User, Group as G\n\n@cache\ndef load(path):\n    """Load a file.\n\n    More text."""\n    if os.path.exists(path) and path:\n        return j.loads(open(path).read())\n\n\nclass Store:\n    def get(self, key):\n        return self._items[key]\n'
  const p = await parseSource(src, 'python')
  expect(p.chunks.map((c) => [c.kind, c.symbol, c.startLine, c.endLine])).toEqual([
    ['module', '', 1, 3],
    ['function', 'load', 4, 10],
    ['class', 'Store', 13, 15],
  ])
  expect(p.symbols.map((s) => [s.name, s.kind, s.parent ?? null, s.doc ?? null, s.cyclomatic])).toEqual([
    ['load', 'function', null, 'Load a file.', 3],
    ['Store', 'class', null, null, 1],
    ['get', 'method', 'Store', null, 1],
  ])
  expect(p.imports).toEqual([
    { source: 'os.path', names: [], line: 1 },
    { source: 'json', names: [], line: 1 },
    { source: '.models', names: ['User', 'Group'], line: 2 },
  ])
  expect(p.refs.map((r) => r.name)).toEqual(['exists', 'loads', 'read', 'open'])
})

test('Go: functions, methods with their receiver, types, imports; exported means capitalised', async () => {
  const src = 'package p\n\nimport (\n\t"fmt"\n\tx "a/b"\n)\n\n// Hello greets.\nfunc Hello(n string) string { return fmt.Sprint(n) }\n\nfunc (s *Server) stop() { x.Close() }\n\ntype Server struct{}\n'
  const p = await parseSource(src, 'go')
  expect(p.symbols.map((s) => [s.name, s.kind, s.parent ?? null, s.exported, s.doc ?? null])).toEqual([
    ['Hello', 'function', null, true, 'Hello greets.'],
    ['stop', 'method', 'Server', false, null],
    ['Server', 'type', null, true, null],
  ])
  expect(p.chunks.find((c) => c.symbol === 'stop')!.parent).toBe('Server')
  expect(p.imports).toEqual([
    { source: 'fmt', names: ['*'], line: 4 },
    { source: 'a/b', names: ['x'], line: 5 },
  ])
})

test('text without a grammar, and minified code, become line windows', async () => {
  const lines = Array.from({ length: WINDOW_LINES + 5 }, (_, i) => `line ${i}`).join('\n')
  const md = await parseSource(lines, 'markdown')
  expect(md.chunks.map((c) => [c.kind, c.startLine, c.endLine])).toEqual([
    ['window', 1, WINDOW_LINES],
    ['window', WINDOW_LINES + 1, WINDOW_LINES + 5],
  ])
  const minified = await parseSource(`function a(){${'x();'.repeat(400)}}`, 'javascript')
  expect(minified.chunks.map((c) => c.kind)).toEqual(['window'])
  expect(minified.symbols).toEqual([])
})
