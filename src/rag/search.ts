/**
 * @module rag/search
 * `search_code`'s engine. `auto` ranks chunks with BM25F, raises a definition by the share of its
 * name's words that the query uses, puts tests after the rest unless the query asks for them, drops
 * overlapping hits and keeps at most three per file. (Boosting a chunk whose symbol equals a query
 * word, and definitions over loose lines, lowered MRR on every evaluation in bench/rag; the graded
 * share of the name did better on both docstring evaluations.) `exact` finds substrings
 * through the trigram index and verifies them line by line. `symbol` looks definitions up by name.
 */
import type { Scored } from './bm25.ts'
import type { CodeIndex, IndexedFile, RepoState } from './code-index.ts'
import { languageFamily, normalizeLanguage } from './languages.ts'
import { parseQuery, pathFilter, type ParsedQuery } from './query.ts'
import { queryTerms, termCounts } from './tokenize.ts'

export type SearchMode = 'auto' | 'symbol' | 'exact'

export interface SearchRequest {
  query: string
  language?: string
  limit?: number
  path?: string
  repo?: string
  mode?: SearchMode
  include_tests?: boolean
}

export interface SearchHit {
  rank: number
  score: number
  repo: string
  path: string
  language: string
  symbol: string
  kind: string
  start_line: number
  end_line: number
  snippet: string
  uri: string
  revision: string
  /** `exact` mode: the matching lines. */
  matches?: { line: number; text: string }[]
}

export interface RepoRevision {
  repo: string
  revision: string
  commit?: string
  indexed_at: string
  files: number
  stale: boolean
}

export interface SearchResponse {
  query: string
  mode: SearchMode
  took_ms: number
  total_candidates: number
  index: RepoRevision[]
  results: SearchHit[]
}

/** Raised for a request that cannot be answered as asked; the message says what to change. */
export class SearchInputError extends Error {}

const PER_FILE = 3
const RERANK = 100
const RERANK_PHRASES = 500
/** Tests rank below the code they test unless the query mentions tests. */
const TEST_PENALTY = 0.8
/** A definition whose name's words all occur in the query scores this much more (pro rata). */
const NAME_COVERAGE = 0.25
const EXACT_MIN = 3
const MAX_MATCH_LINES = 5
const MATCHES_PER_SEGMENT = 50
const MATCH_LINE_CHARS = 240

export function fileUri(file: IndexedFile, start?: number, end?: number): string {
  const path = file.path.split('/').map(encodeURIComponent).join('/')
  const base = `mcprag://${file.repo.config.name}/${path}`
  return start === undefined ? base : `${base}#L${start}-L${end ?? start}`
}

export function repoRevision(index: CodeIndex, repo: RepoState): RepoRevision {
  const r: RepoRevision = {
    repo: repo.config.name,
    revision: index.revision(repo),
    indexed_at: new Date(repo.lastScanAt ?? 0).toISOString(),
    files: repo.files.size,
    stale: repo.pending > 0,
  }
  if (repo.commit) r.commit = repo.commit
  return r
}

interface Filter {
  repos: Set<RepoState>
  langs?: Set<string>
  path?: (path: string) => boolean
  symbol?: string
  tests: boolean
}

function buildFilter(req: SearchRequest, q: ParsedQuery, readable: RepoState[]): Filter {
  const repoName = q.repo ?? req.repo
  const repos = new Set(repoName === undefined ? readable : readable.filter((r) => r.config.name === repoName))
  if (repoName !== undefined && repos.size === 0)
    throw new SearchInputError(`No indexed repository "${repoName}" that you may read: use one of ${readable.map((r) => r.config.name).join(', ') || '(none)'}`)
  const f: Filter = { repos, tests: req.include_tests ?? true }
  const langRaw = q.lang ?? req.language
  if (langRaw !== undefined) {
    const lang = normalizeLanguage(langRaw)
    if (!lang) throw new SearchInputError(`Unknown language "${langRaw}": use typescript, javascript, python, go, or a file extension such as ts or py`)
    f.langs = new Set(languageFamily(lang))
  }
  const path = q.path ?? req.path
  if (path !== undefined && path.trim() !== '') f.path = pathFilter(path)
  if (q.symbol !== undefined) f.symbol = q.symbol.toLowerCase()
  return f
}

function acceptFile(f: Filter, file: IndexedFile | undefined): file is IndexedFile {
  if (!file || !f.repos.has(file.repo)) return false
  if (f.langs && !f.langs.has(file.lang)) return false
  if (!f.tests && file.test) return false
  return !f.path || f.path(file.path)
}

export function searchCode(index: CodeIndex, req: SearchRequest, readable: RepoState[]): SearchResponse {
  const started = performance.now()
  const q = parseQuery(req.query)
  const filter = buildFilter(req, q, readable)
  const limit = req.limit ?? 10
  let mode = req.mode ?? 'auto'
  const words = queryTerms(q.text, (t) => index.bm25.has(t))
  for (const phrase of q.phrases) for (const [t, n] of termCounts(phrase)) words.set(t, (words.get(t) ?? 0) + n)
  if (mode === 'auto' && words.size === 0 && q.symbol === undefined) {
    // Nothing to rank: a bare phrase or short punctuation is a substring search.
    if (q.phrases.length > 0 || q.text.trim().length >= EXACT_MIN) mode = 'exact'
    else throw new SearchInputError('The query has no words to search for: give identifiers or words, a "quoted phrase", or use mode "exact" with at least 3 characters')
  }
  let found: { hits: Omit<SearchHit, 'rank'>[]; candidates: number }
  if (mode === 'exact') found = exact(index, filter, q.phrases[0] ?? q.text.trim(), limit)
  else if (mode === 'symbol') found = bySymbol(index, filter, q.symbol ?? (q.text.trim() || q.phrases[0] || ''), limit)
  else found = ranked(index, filter, q, words, limit)
  const repos = new Set(found.hits.map((h) => h.repo))
  return {
    query: req.query,
    mode,
    took_ms: Math.round((performance.now() - started) * 100) / 100,
    total_candidates: found.candidates,
    index: [...filter.repos].filter((r) => repos.has(r.config.name) || filter.repos.size <= 3).map((r) => repoRevision(index, r)),
    results: found.hits.map((h, i) => ({ rank: i + 1, ...h })),
  }
}

/** Hits for ranked documents, with their snippets read in one query per repository. */
function hitsOf(index: CodeIndex, ranked: { doc: number; score: number }[]): Omit<SearchHit, 'rank'>[] {
  const chunkIds = new Map<RepoState, number[]>()
  const hits = ranked.map(({ doc, score }) => {
    const hit = hitOf(index, doc, score)
    const repo = index.fileByKey(index.slots.file(doc))!.repo
    chunkIds.set(repo, [...(chunkIds.get(repo) ?? []), index.slots.get(doc).chunkId])
    return hit
  })
  const snippets = new Map<string, Map<number, string>>()
  for (const [repo, ids] of chunkIds) snippets.set(repo.config.name, repo.store.snippets(ids))
  ranked.forEach(({ doc }, i) => (hits[i]!.snippet = snippets.get(hits[i]!.repo)?.get(index.slots.get(doc).chunkId) ?? ''))
  return hits
}

function hitOf(index: CodeIndex, doc: number, score: number): Omit<SearchHit, 'rank'> {
  const s = index.slots.get(doc)
  const file = index.fileByKey(s.file)!
  return {
    score: Math.round(score * 1000) / 1000,
    repo: file.repo.config.name,
    path: file.path,
    language: file.lang,
    symbol: s.parent && s.kind === 'method' ? `${s.parent}.${s.symbol}` : s.symbol,
    kind: s.kind,
    start_line: s.start,
    end_line: s.end,
    snippet: '',
    uri: fileUri(file, s.start, s.end),
    revision: index.revision(file.repo),
  }
}

function ranked(index: CodeIndex, f: Filter, q: ParsedQuery, words: Map<string, number>, limit: number): { hits: Omit<SearchHit, 'rank'>[]; candidates: number } {
  const slots = index.slots
  const accept = (doc: number) => {
    if (!acceptFile(f, index.fileByKey(slots.file(doc)))) return false
    return f.symbol === undefined || slots.symbol(doc).toLowerCase().includes(f.symbol)
  }
  const terms = words.size > 0 ? words : termCounts(f.symbol ?? '')
  // Enough candidates to survive the per-file cap, overlap removal and phrase checks.
  const { hits, matched } = index.bm25.search(terms, Math.max(q.phrases.length ? RERANK_PHRASES : RERANK, limit * 10), accept)
  const wantsTests = /\b(tests?|spec|specs)\b/i.test(q.text)
  const termIds = index.bm25.idsOf(terms.keys())
  const rescored = rescoredInOrder(hits, (doc, score) => {
    // The share of the name's words (`get_build_version` → get, build, version) that the query
    // uses: a description tends to use every word of the name it describes, a neighbour's only some.
    const boosted = score * (1 + NAME_COVERAGE * index.bm25.nameCoverage(doc, termIds))
    return !wantsTests && index.fileByKey(slots.file(doc))!.test ? boosted * TEST_PENALTY : boosted
  })
  const phrases = q.phrases.map((p) => p.toLowerCase())
  const contents = new Map<number, string[]>()
  const linesOf = (file: IndexedFile) => {
    let lines = contents.get(file.key)
    if (!lines) {
      lines = (file.repo.store.content(file.id) ?? '').toLowerCase().split('\n')
      contents.set(file.key, lines)
    }
    return lines
  }
  const kept: { doc: number; score: number; file: number; start: number; end: number }[] = []
  const perFile = new Map<number, number>()
  for (const c of rescored) {
    if (kept.length >= limit) break
    const s = slots.get(c.doc)
    if ((perFile.get(s.file) ?? 0) >= PER_FILE) continue
    if (kept.some((k) => k.file === s.file && overlaps(k, s))) continue
    if (phrases.length) {
      const text = linesOf(index.fileByKey(s.file)!).slice(s.start - 1, s.end).join('\n')
      if (!phrases.every((p) => text.includes(p))) continue
    }
    kept.push({ doc: c.doc, score: c.score, file: s.file, start: s.start, end: s.end })
    perFile.set(s.file, (perFile.get(s.file) ?? 0) + 1)
  }
  return { hits: hitsOf(index, kept), candidates: matched }
}

/**
 * `hits` (best first) re-scored by `rescore`, which may raise a score by at most 1 + NAME_COVERAGE
 * or lower it, yielded best first (ties by document) as if all were re-scored and sorted; but
 * only as far as the caller reads, and re-scoring each hit only once no unread hit could overtake
 * those read. The caller stops after a page, so most of the candidates are never re-scored.
 */
function* rescoredInOrder(hits: Scored[], rescore: (doc: number, score: number) => number): Generator<Scored> {
  // Re-scored hits not yet yielded, kept sorted best last (a page is a few dozen at most).
  const pending: Scored[] = []
  const before = (a: Scored, b: Scored) => a.score > b.score || (a.score === b.score && a.doc < b.doc)
  let next = 0
  for (;;) {
    // An unread hit can reach at most its score times the largest boost.
    const bound = next < hits.length ? hits[next]!.score * (1 + NAME_COVERAGE) : -Infinity
    const top = pending[pending.length - 1]
    if (top !== undefined && top.score > bound) {
      pending.pop()
      yield top
      continue
    }
    if (next >= hits.length) return
    const h = hits[next++]!
    const item = { doc: h.doc, score: rescore(h.doc, h.score) }
    let at = pending.length
    while (at > 0 && before(pending[at - 1]!, item)) at--
    pending.splice(at, 0, item)
  }
}

/** More than half of the shorter range is shared (claude-context's rule for duplicate hits). */
function overlaps(a: { start: number; end: number }, b: { start: number; end: number }): boolean {
  const shared = Math.min(a.end, b.end) - Math.max(a.start, b.start) + 1
  return shared > 0 && shared * 2 > Math.min(a.end - a.start + 1, b.end - b.start + 1)
}

function exact(index: CodeIndex, f: Filter, needle: string, limit: number): { hits: Omit<SearchHit, 'rank'>[]; candidates: number } {
  if (needle.length < EXACT_MIN) throw new SearchInputError(`Exact search needs at least ${EXACT_MIN} characters (got "${needle}")`)
  const lowered = needle.toLowerCase()
  const hits: Omit<SearchHit, 'rank'>[] = []
  // A chunk that spans two segments gets one hit, with the matches of both.
  const byChunk = new Map<string, Omit<SearchHit, 'rank'> & { matches: { line: number; text: string }[] }>()
  let candidates = 0
  for (const repo of f.repos) {
    // Candidate segments from the trigram index, verified line by line: the index may over-match.
    for (const seg of repo.store.segmentsWithTrigramsOf(needle)) {
      if (hits.length >= limit) break
      candidates++
      const file = repo.byId.get(seg.file_id)
      if (!acceptFile(f, file)) continue
      let slot = 0
      for (const m of matchingLines(seg.text, lowered, seg.start_line)) {
        // Chunks and matches are both in line order.
        while (slot < file.slots.length && index.slots.get(file.slots[slot]!).end < m.line) slot++
        const doc = file.slots[slot]
        const s = doc !== undefined && index.slots.get(doc).start <= m.line ? index.slots.get(doc) : { start: m.line, end: m.line, symbol: '', kind: 'module' as const }
        if (f.symbol !== undefined && !s.symbol.toLowerCase().includes(f.symbol)) continue
        const key = `${file.key}:${s.start}`
        const hit = byChunk.get(key)
        if (hit) {
          hit.score++
          if (hit.matches.length < MAX_MATCH_LINES) {
            hit.matches.push(m)
            hit.snippet += `\n${m.text}`
          }
          continue
        }
        if (hits.length >= limit) break
        const created = { score: 1, repo: repo.config.name, path: file.path, language: file.lang, symbol: s.symbol, kind: s.kind, start_line: s.start, end_line: s.end, snippet: m.text, uri: fileUri(file, s.start, s.end), revision: index.revision(repo), matches: [m] }
        byChunk.set(key, created)
        hits.push(created)
      }
    }
  }
  return { hits, candidates }
}

/**
 * The lines of `content` (a segment starting at `firstLine`) that contain `lowered`, compared
 * case-insensitively, at most MATCHES_PER_SEGMENT: one lowercasing and indexOf scan, newlines
 * counted only up to each match.
 */
function matchingLines(content: string, lowered: string, firstLine = 1): { line: number; text: string }[] {
  const hay = content.toLowerCase()
  const out: { line: number; text: string }[] = []
  let line = firstLine
  let counted = 0
  for (let at = hay.indexOf(lowered); at >= 0 && out.length < MATCHES_PER_SEGMENT; ) {
    for (let nl = content.indexOf('\n', counted); nl >= 0 && nl < at; nl = content.indexOf('\n', nl + 1)) {
      line++
      counted = nl + 1
    }
    const end = content.indexOf('\n', at)
    out.push({ line, text: content.slice(counted, end < 0 ? content.length : end).slice(0, MATCH_LINE_CHARS) })
    // The next match on a later line.
    at = end < 0 ? -1 : hay.indexOf(lowered, end + 1)
  }
  return out
}

function bySymbol(index: CodeIndex, f: Filter, name: string, limit: number): { hits: Omit<SearchHit, 'rank'>[]; candidates: number } {
  const wanted = name.trim().toLowerCase()
  if (!wanted) throw new SearchInputError('Symbol search needs a name (or a prefix or part of one)')
  const found: { doc: number; score: number }[] = []
  const slots = index.slots
  for (let doc = 0; doc < index.bm25.size; doc++) {
    if (!index.bm25.isAlive(doc) || !slots.isDefinition(doc)) continue
    const symbol = slots.symbol(doc).toLowerCase()
    const at = symbol.indexOf(wanted)
    if (at < 0) continue
    if (!acceptFile(f, index.fileByKey(slots.file(doc)))) continue
    // Exact name first, then prefix, then anywhere; shorter names before longer ones.
    const score = (symbol === wanted ? 3 : at === 0 ? 2 : 1) + 1 / (1 + symbol.length)
    found.push({ doc, score })
  }
  found.sort((a, b) => b.score - a.score || a.doc - b.doc)
  return { hits: hitsOf(index, found.slice(0, limit)), candidates: found.length }
}
