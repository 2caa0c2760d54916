/**
 * @module rag/analyze
 * `analyze_context`'s engine: for a file, a symbol or a pasted snippet, the outline (signatures,
 * docs, complexity), imports and importers, callees and callers, and related files ranked by
 * personalized PageRank over the import and call graph. Callers and callees are resolved by name
 * through the index, like aider's repo map: fast and useful, not a type checker.
 */
import { posix } from 'node:path'
import type { CodeIndex, IndexedFile, RepoState } from './code-index.ts'
import { fileStem, type SymbolRow } from './index-store.ts'
import { resolveImport } from './import-resolver.ts'
import { link, personalizedPageRank } from './page-rank.ts'
import type { ParsedFile, SymbolRecord } from './parsed-file.ts'
import { fileUri, repoRevision, searchCode, type RepoRevision, type SearchHit } from './search.ts'

export const SECTIONS = ['outline', 'imports', 'importers', 'callers', 'callees', 'complexity', 'related'] as const
export type Section = (typeof SECTIONS)[number]

export interface AnalyzeRequest {
  file_path?: string
  code?: string
  language?: string
  symbol?: string
  repo?: string
  include?: Section[]
  limit?: number
}

export interface OutlineEntry {
  name: string
  kind: string
  start_line: number
  end_line: number
  exported: boolean
  signature: string
  parent?: string
  doc?: string
  complexity?: { cyclomatic: number; max_nesting: number; lines: number }
}

export interface AnalyzeResult {
  target: { repo?: string; path?: string; language: string; lines: number; symbol?: string; uri?: string; sha256?: string }
  index?: RepoRevision
  outline?: OutlineEntry[]
  imports?: { source: string; names: string[]; line: number; resolved_path?: string }[]
  importers?: { path: string; names: string[]; line: number }[]
  callees?: { name: string; calls: number; defined_in?: string; line?: number }[]
  callers?: { path: string; symbol?: string; line: number; imports_target: boolean }[]
  related?: { path: string; score: number; reason: string }[]
  similar?: Pick<SearchHit, 'path' | 'symbol' | 'start_line' | 'end_line' | 'score' | 'uri'>[]
  other_definitions?: { repo: string; path: string; line: number }[]
  summary: string
}

export class AnalyzeInputError extends Error {}

/** Where a target lives: a file of a repository, optionally narrowed to one symbol's lines. */
interface Target {
  file: IndexedFile
  symbol?: SymbolRow
}

export async function analyzeContext(index: CodeIndex, req: AnalyzeRequest, readable: RepoState[]): Promise<AnalyzeResult> {
  const given = (['file_path', 'code', 'symbol'] as const).filter((k) => req[k] !== undefined)
  if (given.length !== 1)
    throw new AnalyzeInputError(`Give exactly one of "file_path", "code" or "symbol" (got ${given.length ? given.map((g) => `"${g}"`).join(' and ') : 'none'})`)
  const repos = req.repo === undefined ? readable : readable.filter((r) => r.config.name === req.repo)
  if (req.repo !== undefined && repos.length === 0)
    throw new AnalyzeInputError(`No indexed repository "${req.repo}" that you may read: use one of ${readable.map((r) => r.config.name).join(', ') || '(none)'}`)
  const include = new Set<Section>(req.include?.length ? req.include : SECTIONS)
  const limit = req.limit ?? 10
  if (req.code !== undefined) return analyzeCode(index, req.code, req.language ?? 'typescript', repos, limit)
  let target: Target
  let others: AnalyzeResult['other_definitions']
  if (req.file_path !== undefined) target = { file: findFile(repos, req.file_path) }
  else {
    const found = findSymbol(repos, req.symbol!)
    target = found.target
    others = found.others
  }
  const { file, symbol } = target
  const store = file.repo.store
  const symbols = store.symbolsOfFile(file.id).filter((s) => !symbol || (s.line >= symbol.line && s.end_line <= symbol.end_line))
  const inRange = (line: number) => !symbol || (line >= symbol.line && line <= symbol.end_line)
  const result: AnalyzeResult = {
    target: { repo: file.repo.config.name, path: file.path, language: file.lang, lines: file.lines, uri: fileUri(file), sha256: file.sha256 },
    index: repoRevision(index, file.repo),
    summary: '',
  }
  if (symbol) Object.assign(result.target, { symbol: symbol.name, uri: fileUri(file, symbol.line, symbol.end_line) })
  if (others?.length) result.other_definitions = others
  if (include.has('outline') || include.has('complexity')) result.outline = symbols.map((s) => outlineEntry(s, include.has('complexity')))
  const imports = store.importsOfFile(file.id).map((i) => {
    const names = i.names ? i.names.split(',') : []
    const resolved = resolveImport(file.repo, file.path, i.source, file.lang)
    return resolved ? { source: i.source, names, line: i.line, resolved_path: resolved } : { source: i.source, names, line: i.line }
  })
  if (include.has('imports')) result.imports = imports.slice(0, limit * 5)
  const importers = findImporters(file)
  if (include.has('importers')) result.importers = importers.slice(0, limit)
  const callees = findCallees(file, inRange, imports.flatMap((i) => (i.resolved_path ? [i.resolved_path] : [])))
  if (include.has('callees')) result.callees = callees.slice(0, limit)
  const importerPaths = new Set(importers.map((i) => i.path))
  const callers = findCallers(file, symbol ? [symbol] : symbols.filter((s) => s.exported && !s.parent), importerPaths, limit * 5)
  if (include.has('callers')) result.callers = callers.slice(0, limit)
  if (include.has('related')) result.related = relatedFiles(file, imports, importers, callees, callers, limit)
  result.summary = summarize(file, symbol, symbols, imports.length, importers.length, callers.length)
  return result
}

/** A repository-relative path (or an `mcprag://repo/path` URI) of an indexed file. */
function findFile(repos: RepoState[], raw: string): IndexedFile {
  let path = raw.trim()
  let repoName: string | undefined
  const uri = /^mcprag:\/\/([^/]+)\/(.+?)(#.*)?$/.exec(path)
  if (uri) {
    repoName = uri[1]
    path = uri[2]!.split('/').map(decodeURIComponent).join('/')
  }
  path = path.replace(/^\.\/+/, '')
  if (path.startsWith('/') || path.split('/').includes('..') || path.includes('\0'))
    throw new AnalyzeInputError(`"${raw}" is not a path inside an indexed repository: give it relative to the repository root, such as src/server.ts`)
  for (const repo of repos) {
    if (repoName !== undefined && repo.config.name !== repoName) continue
    const file = repo.files.get(path)
    if (file) return file
  }
  throw new AnalyzeInputError(`"${path}" is not an indexed file${repoName ? ` of ${repoName}` : ''}: search for it with search_code, or check it is not excluded (.gitignore, secrets, build output)`)
}

function findSymbol(repos: RepoState[], name: string): { target: Target; others: { repo: string; path: string; line: number }[] } {
  const all: { file: IndexedFile; row: SymbolRow }[] = []
  for (const repo of repos)
    for (const row of repo.store.symbolsNamed(name)) {
      const file = repo.byId.get(row.file_id)
      if (file) all.push({ file, row })
    }
  if (all.length === 0) throw new AnalyzeInputError(`No definition named "${name}" in the index: names are case-sensitive; search_code with mode "symbol" finds partial names`)
  // Prefer exported, non-test, top-level definitions.
  const rank = (x: { file: IndexedFile; row: SymbolRow }) => (x.row.exported ? 0 : 2) + (x.file.test ? 4 : 0) + (x.row.parent ? 1 : 0)
  all.sort((a, b) => rank(a) - rank(b) || a.file.path.localeCompare(b.file.path))
  const [first, ...rest] = all
  return { target: { file: first!.file, symbol: first!.row }, others: rest.slice(0, 10).map((x) => ({ repo: x.file.repo.config.name, path: x.file.path, line: x.row.line })) }
}

function outlineEntry(s: SymbolRow | SymbolRecord, withComplexity: boolean): OutlineEntry {
  const row = 'end_line' in s ? s : { ...s, end_line: s.endLine, exported: s.exported ? 1 : 0, max_nesting: s.maxNesting, parent: s.parent ?? null, doc: s.doc ?? null }
  const e: OutlineEntry = { name: row.name, kind: row.kind, start_line: row.line, end_line: row.end_line, exported: row.exported === 1, signature: row.signature }
  if (row.parent) e.parent = row.parent
  if (row.doc) e.doc = row.doc
  if (withComplexity) e.complexity = { cyclomatic: row.cyclomatic, max_nesting: row.max_nesting, lines: row.end_line - row.line + 1 }
  return e
}

function findImporters(file: IndexedFile): { path: string; names: string[]; line: number }[] {
  const out: { path: string; names: string[]; line: number }[] = []
  for (const row of file.repo.store.importsByStem(fileStem(file.path))) {
    const from = file.repo.byId.get(row.file_id)
    if (!from || from === file) continue
    const resolved = resolveImport(file.repo, from.path, row.source, from.lang)
    // A Go import names a package (a folder), which every file of the folder is part of.
    const same = file.lang === 'go' ? resolved !== undefined && posix.dirname(resolved) === posix.dirname(file.path) : resolved === file.path
    if (same) out.push({ path: from.path, names: row.names ? row.names.split(',') : [], line: row.line })
  }
  return out.sort((a, b) => Number(a.path.includes('test')) - Number(b.path.includes('test')) || a.path.localeCompare(b.path))
}

function findCallees(file: IndexedFile, inRange: (line: number) => boolean, importedPaths: string[]): NonNullable<AnalyzeResult['callees']> {
  const counts = new Map<string, number>()
  for (const r of file.repo.store.refsOfFile(file.id)) if (inRange(r.line)) counts.set(r.name, (counts.get(r.name) ?? 0) + 1)
  const imported = new Set(importedPaths)
  const out: NonNullable<AnalyzeResult['callees']> = []
  for (const [name, calls] of counts) {
    const defs = file.repo.store.symbolsNamed(name).map((row) => ({ row, path: file.repo.byId.get(row.file_id)?.path })).filter((d) => d.path !== undefined)
    // The same file first, then a file it imports, then any single definition; many are ambiguous.
    const def = defs.find((d) => d.path === file.path) ?? defs.find((d) => imported.has(d.path!)) ?? (defs.length === 1 ? defs[0] : undefined)
    if (def) out.push({ name, calls, defined_in: def.path!, line: def.row.line })
  }
  return out.sort((a, b) => b.calls - a.calls || a.name.localeCompare(b.name))
}

function findCallers(file: IndexedFile, symbols: SymbolRow[], importers: Set<string>, max: number): NonNullable<AnalyzeResult['callers']> {
  const out: NonNullable<AnalyzeResult['callers']> = []
  const symbolsOf = new Map<number, SymbolRow[]>()
  for (const s of symbols) {
    for (const ref of file.repo.store.refsNamed(s.name, max)) {
      const from = file.repo.byId.get(ref.file_id)
      if (!from || (from === file && ref.line >= s.line && ref.line <= s.end_line)) continue
      let defs = symbolsOf.get(ref.file_id)
      if (!defs) symbolsOf.set(ref.file_id, (defs = file.repo.store.symbolsOfFile(ref.file_id)))
      // The innermost definition around the call.
      const around = defs.filter((d) => d.line <= ref.line && ref.line <= d.end_line).sort((a, b) => b.line - a.line)[0]
      const entry: NonNullable<AnalyzeResult['callers']>[number] = { path: from.path, line: ref.line, imports_target: from === file || importers.has(from.path) }
      if (around) entry.symbol = around.parent ? `${around.parent}.${around.name}` : around.name
      out.push(entry)
    }
  }
  // Calls from files that import the target are the likely real ones; name matches elsewhere may be namesakes.
  return out.sort((a, b) => Number(b.imports_target) - Number(a.imports_target) || a.path.localeCompare(b.path) || a.line - b.line)
}

function relatedFiles(
  file: IndexedFile,
  imports: { resolved_path?: string }[],
  importers: { path: string }[],
  callees: NonNullable<AnalyzeResult['callees']>,
  callers: NonNullable<AnalyzeResult['callers']>,
  limit: number,
): NonNullable<AnalyzeResult['related']> {
  const edges = new Map<string, Map<string, number>>()
  const reasons = new Map<string, string>()
  const edge = (from: string, to: string, weight: number, reason: string) => {
    link(edges, from, to, weight)
    if (!reasons.has(to)) reasons.set(to, reason)
  }
  for (const i of imports) if (i.resolved_path) edge(file.path, i.resolved_path, 1, 'imported by target')
  for (const i of importers) edge(file.path, i.path, 1, 'imports target')
  for (const c of callees) if (c.defined_in && c.defined_in !== file.path) edge(file.path, c.defined_in, Math.sqrt(c.calls), `defines ${c.name}`)
  for (const c of callers) if (c.path !== file.path) edge(file.path, c.path, c.imports_target ? 1 : 0.3, `calls target${c.symbol ? ` from ${c.symbol}` : ''}`)
  // A second hop through the importers' own imports finds siblings that move together.
  for (const i of importers.slice(0, 20)) {
    const from = file.repo.files.get(i.path)
    if (!from) continue
    for (const row of file.repo.store.importsOfFile(from.id)) {
      const to = resolveImport(file.repo, from.path, row.source, from.lang)
      if (to && to !== file.path) edge(from.path, to, 0.5, `imported alongside by ${from.path}`)
    }
  }
  // Tests named after the target belong with it.
  const stem = fileStem(file.path)
  for (const other of file.repo.files.values())
    if (other.test && fileStem(other.path).replace(/[._-]?(test|spec)$|^test_/g, '') === stem) edge(file.path, other.path, 2, 'test of target')
  const rank = personalizedPageRank(edges, file.path)
  rank.delete(file.path)
  return [...rank.entries()]
    .filter(([, score]) => score > 0)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, limit)
    .map(([path, score]) => ({ path, score: Math.round(score * 1000) / 1000, reason: reasons.get(path) ?? 'linked' }))
}

function summarize(file: IndexedFile, symbol: SymbolRow | undefined, symbols: SymbolRow[], imports: number, importers: number, callers: number): string {
  const worst = symbols.reduce<SymbolRow | undefined>((a, s) => (!a || s.cyclomatic > a.cyclomatic ? s : a), undefined)
  const complexity = worst && worst.cyclomatic > 1 ? `, max cyclomatic ${worst.cyclomatic} (${worst.name})` : ''
  if (symbol)
    return `${symbol.kind} ${symbol.parent ? `${symbol.parent}.` : ''}${symbol.name} in ${file.path}:${symbol.line}-${symbol.end_line}, called from ${callers} place(s)${complexity}.`
  const exported = symbols.filter((s) => s.exported).length
  return `${file.path} (${file.lang}, ${file.lines} lines) defines ${symbols.length} symbols (${exported} exported), imports ${imports} module(s), is imported by ${importers} file(s)${complexity}.`
}

async function analyzeCode(index: CodeIndex, code: string, language: string, repos: RepoState[], limit: number): Promise<AnalyzeResult> {
  const parsed: ParsedFile = await index.parser.parseSource(code, language)
  const counts = new Map<string, number>()
  for (const r of parsed.refs) counts.set(r.name, (counts.get(r.name) ?? 0) + 1)
  const callees: NonNullable<AnalyzeResult['callees']> = []
  for (const [name, calls] of counts) {
    for (const repo of repos) {
      const row = repo.store.symbolsNamed(name)[0]
      const path = row && repo.byId.get(row.file_id)?.path
      if (row && path) {
        callees.push({ name, calls, defined_in: `${repo.config.name}:${path}`, line: row.line })
        break
      }
    }
  }
  callees.sort((a, b) => b.calls - a.calls || a.name.localeCompare(b.name))
  const words = [...parsed.symbols.map((s) => s.name), ...counts.keys()].slice(0, 40).join(' ')
  const similar = words
    ? searchCode(index, { query: words, limit }, repos).results.map((h) => ({ path: `${h.repo}:${h.path}`, symbol: h.symbol, start_line: h.start_line, end_line: h.end_line, score: h.score, uri: h.uri }))
    : []
  const outline = parsed.symbols.map((s) => outlineEntry(s, true))
  return {
    target: { language: parsed.lang, lines: parsed.lines },
    outline,
    imports: parsed.imports.map((i) => ({ source: i.source, names: i.names, line: i.line })),
    callees: callees.slice(0, limit),
    similar,
    summary: `Snippet (${parsed.lang}, ${parsed.lines} lines) defines ${outline.length} symbols and calls ${counts.size} names, ${callees.length} of them defined in the index.`,
  }
}
