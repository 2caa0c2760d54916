/**
 * The retrieval evaluation, built from code on every machine with no download (rag.md §2):
 *
 * - docstring → definition (CodeSearchNet's method): every non-test function, class or method with
 *   a doc comment of at least five words and some code besides its declaration; the query is the
 *   first paragraph of the doc, and doc comments are stripped from what is indexed. The relevant
 *   item is the chunk that holds the definition, or any definition documented by the same words
 *   (the stdlib has several: "Put an item into the queue."). Corpora: the TypeScript sources
 *   shipped in node_modules (zod, ajv, @noble/hashes) and Debian's Python standard library.
 * - commit subject → changed files (SWE-bench localisation) over this repository's git history:
 *   non-merge commits touching 1–3 non-test source files that still exist, the conventional-commit
 *   prefix stripped; files rank by their best chunk plus half their second.
 *
 * Queries run through `searchCode`, the engine behind the tool, with its re-ranking and caps.
 */
import { existsSync } from 'node:fs'
import { CodeIndex } from '../../src/rag/code-index.ts'
import type { FileParser } from '../../src/rag/parser-pool.ts'
import { searchCode } from '../../src/rag/search.ts'
import { hash, score, type Judged, type Scores } from './metrics.ts'

export interface EvalResult {
  name: string
  corpus: string
  files: number
  lines: number
  all: Scores
  heldOut: Scores
  leakFree: Scores
  leakRate: number
  examples: { query: string; target: string; rank: number | null }[]
}

const MAX_QUERIES = 600
const MIN_DOC_WORDS = 5

async function openCorpus(name: string, roots: { name: string; path: string }[], parser: FileParser, stripDocs: boolean): Promise<CodeIndex> {
  const repos = roots.filter((r) => existsSync(r.path)).map((r) => ({ name: r.name, path: r.path, rootReal: r.path, tier: 'user' as const }))
  if (repos.length === 0) throw new Error(`${name}: none of ${roots.map((r) => r.path).join(', ')} exists`)
  return CodeIndex.open({ repos, dataDir: ':memory:', maxFileBytes: 2 << 20, pollMs: 0, watch: false, stripDocs, includeBuildDirs: true }, parser)
}

type Case = Judged & { held: boolean; example: EvalResult['examples'][number] }

function summarize(name: string, corpus: string, files: number, lines: number, judged: Case[]): EvalResult {
  return {
    name,
    corpus,
    files,
    lines,
    all: score(judged),
    heldOut: score(judged.filter((j) => j.held)),
    leakFree: score(judged.filter((j) => !j.leak)),
    leakRate: judged.filter((j) => j.leak).length / (judged.length || 1),
    examples: judged.filter((j) => !j.leak).slice(0, 3).map((j) => j.example),
  }
}

const words = (s: string) => s.split(/\s+/).filter(Boolean).length

/**
 * Whether a definition has code besides its declaration once its doc is gone: one whose body is
 * only the doc (and `pass`, `...`, braces, or `raise NotImplementedError`) leaves nothing to
 * retrieve but a name. Multi-line declarations count as code, so this errs on keeping a query.
 */
export function hasBody(source: string): boolean {
  const code = source
    .replace(/[rRbBuU]{0,2}("""|''')[\s\S]*?\1/g, '')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .split('\n')
    .map((l) => l.replace(/(^|\s)(#|\/\/).*$/, '').trim())
    .filter((l) => l !== '' && !/^(pass|\.\.\.|[{}();,]+|raise NotImplementedError(\(\))?)$/.test(l))
  // A one-line definition has code when something follows its `):` (Python) or opens its braces.
  return code.length > 1 || (code.length === 1 && (/\)\s*(->[^:]*)?:\s*\S/.test(code[0]!) || /\{\s*[^}\s]/.test(code[0]!)))
}

/** Docstring → definition over one corpus. */
export async function docstringEval(name: string, roots: { name: string; path: string }[], parser: FileParser): Promise<EvalResult> {
  const index = await openCorpus(name, roots, parser, true)
  try {
    const readable = [...index.repos.values()]
    type Target = { repo: string; path: string; line: number; name: string }
    // One case per distinct doc, with every definition that carries it as a target.
    const cases: { query: string; targets: Target[] }[] = []
    const byDoc = new Map<string, Target[]>()
    let files = 0
    let lines = 0
    for (const repo of readable) {
      for (const file of repo.files.values()) {
        files++
        lines += file.lines
        if (file.test || !['typescript', 'python', 'tsx', 'javascript', 'go'].includes(file.lang)) continue
        let source: string[] | undefined
        for (const s of repo.store.symbolsOfFile(file.id)) {
          if (!s.doc || s.kind === 'variable' || s.kind === 'type' || s.kind === 'interface') continue
          const query = s.doc.replace(/`/g, '').replace(/\s+/g, ' ').trim()
          if (words(query) < MIN_DOC_WORDS) continue
          source ??= (repo.store.content(file.id) ?? '').split('\n')
          if (!hasBody(source.slice(s.line - 1, s.end_line).join('\n'))) continue
          const target = { repo: repo.config.name, path: file.path, line: s.line, name: s.name }
          const targets = byDoc.get(query)
          if (targets) targets.push(target)
          else {
            byDoc.set(query, [target])
            cases.push({ query, targets: byDoc.get(query)! })
          }
        }
      }
    }
    cases.sort((a, b) => hash(a.query) - hash(b.query))
    const picked = cases.slice(0, MAX_QUERIES)
    const judged: Case[] = []
    for (const c of picked) {
      const hits = searchCode(index, { query: c.query.slice(0, 500), limit: 10 }, readable).results
      const rank = hits.findIndex((h) => c.targets.some((t) => h.repo === t.repo && h.path === t.path && h.start_line <= t.line && t.line <= h.end_line)) + 1
      const leak = c.targets.some((t) => new RegExp(`\\b${t.name.replace(/[^A-Za-z0-9_]/g, '')}\\b`, 'i').test(c.query))
      const first = c.targets[0]!
      judged.push({ ranks: rank > 0 ? [rank] : [], relevant: 1, leak, held: hash(`split:${c.query}`) % 2 === 1, example: { query: c.query, target: `${first.path}:${first.name}`, rank: rank || null } })
    }
    return summarize(name, roots.map((r) => r.path).join(', '), files, lines, judged)
  } finally {
    index.close()
  }
}

const SOURCE = /^src\/.*\.ts$/

/** Commit subject → changed files over this repository's history, HEAD's tree indexed. */
export async function commitEval(root: string, parser: FileParser): Promise<EvalResult> {
  const log = Bun.spawnSync(['git', '-C', root, 'log', '--no-merges', '--format=@@%H%x09%s', '--name-only']).stdout.toString()
  const cases: { query: string; files: string[] }[] = []
  for (const block of log.split('@@').slice(1)) {
    const [head, ...rest] = block.trim().split('\n')
    const subject = head!.split('\t')[1] ?? ''
    const changed = rest.map((l) => l.trim()).filter(Boolean)
    if (/^(chore|ci|docs|release|bench)\b/i.test(subject) || changed.length > 8) continue
    const targets = changed.filter((f) => SOURCE.test(f) && existsSync(`${root}/${f}`))
    if (targets.length < 1 || targets.length > 3) continue
    const query = subject.replace(/^[a-z]+(\([^)]*\))?!?:\s*/i, '').replace(/#\d+/g, '').trim()
    if (words(query) >= 3) cases.push({ query, files: targets })
  }
  const index = await openCorpus('commits', [{ name: 'self', path: root }], parser, false)
  try {
    const readable = [...index.repos.values()]
    const repo = readable[0]!
    const judged: Case[] = []
    for (const c of cases) {
      const hits = searchCode(index, { query: c.query.slice(0, 500), limit: 50 }, readable).results
      // A file takes its best chunk's score plus half its second (rag.md §2).
      const byFile = new Map<string, number[]>()
      for (const h of hits) byFile.set(h.path, [...(byFile.get(h.path) ?? []), h.score])
      const ranked = [...byFile.entries()].map(([path, s]) => ({ path, score: s[0]! + 0.5 * (s[1] ?? 0) })).sort((a, b) => b.score - a.score).slice(0, 10)
      const ranks = ranked.flatMap((r, i) => (c.files.includes(r.path) ? [i + 1] : []))
      const leak = c.files.some((f) => c.query.toLowerCase().includes(f.replace(/^.*\//, '').replace(/\.ts$/, '').toLowerCase()))
      judged.push({ ranks, relevant: c.files.length, leak, held: hash(`split:${c.query}`) % 2 === 1, example: { query: c.query, target: c.files.join(' '), rank: ranks[0] ?? null } })
    }
    return summarize('commit subject → changed files (this repository)', 'git log of this repository, HEAD tree', repo.files.size, [...repo.files.values()].reduce((n, f) => n + f.lines, 0), judged)
  } finally {
    index.close()
  }
}
