/**
 * Speed and memory of the code index at scale, in a process of its own (so its RSS is the index's):
 * a cold index of about a million lines (Debian's Python standard library plus large JavaScript
 * and TypeScript in node_modules), then `search_code` latency in process (warm passes only),
 * exact-substring latency, and how soon an edited file is searchable. Prints one JSON line.
 *
 *   bun bench/rag/scale.ts [--lines 1000000]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CodeIndex } from '../../src/rag/code-index.ts'
import { ParserPool, WORKER_IDLE_MS } from '../../src/rag/parser-pool.ts'
import { searchCode } from '../../src/rag/search.ts'
import { SCALE_ROOTS } from './corpora.ts'
import { hash } from './metrics.ts'

const argv = process.argv.slice(2)
const target = Number(argv[argv.indexOf('--lines') + 1] || 1_000_000)
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}
const rssMb = () => process.memoryUsage().rss / 2 ** 20
function settle(): number {
  Bun.gc(true)
  Bun.gc(true)
  return rssMb()
}

const baseline = settle()
const dataDir = mkdtempSync(join(tmpdir(), 'mcprag-scale-'))
const scratch = mkdtempSync(join(tmpdir(), 'mcprag-scratch-'))
// Files the incremental measurement edits: copies, never the originals.
const EDITS = 20
for (let i = 0; i < EDITS; i++) writeFileSync(join(scratch, `edit${i}.py`), `def placeholder_${i}():\n    return ${i}\n`)
const repos = [{ name: 'scratch', path: scratch, rootReal: scratch, tier: 'user' as const }]
for (const c of SCALE_ROOTS()) if (existsSync(c.path)) repos.push({ name: c.name, path: c.path, rootReal: c.path, tier: 'user' as const })

const pool = new ParserPool(2)
const started = performance.now()
// Roots are added until the corpus passes the target; a repository is indexed whole.
let index = await CodeIndex.open({ repos: repos.slice(0, 2), dataDir, maxFileBytes: 10 << 20, pollMs: 0, watch: false, includeBuildDirs: true }, pool)
const lineCount = () => [...index.repos.values()].reduce((n, r) => n + [...r.files.values()].reduce((m, f) => m + f.lines, 0), 0)
let used = 2
while (lineCount() < target && used < repos.length) {
  index.close()
  used++
  index = await CodeIndex.open({ repos: repos.slice(0, used), dataDir, maxFileBytes: 10 << 20, pollMs: 0, watch: false, includeBuildDirs: true }, pool)
}
const coldMs = performance.now() - started
const lines = lineCount()
const files = [...index.repos.values()].reduce((n, r) => n + r.files.size, 0)
const bytes = [...index.repos.values()].reduce((n, r) => n + [...r.files.values()].reduce((m, f) => m + f.size, 0), 0)

// A clean cold build of exactly that corpus, timed on its own (the loop above re-opened it).
index.close()
rmSync(dataDir, { recursive: true, force: true })
const t0 = performance.now()
index = await CodeIndex.open({ repos: repos.slice(0, used), dataDir, maxFileBytes: 10 << 20, pollMs: 0, watch: false, includeBuildDirs: true }, pool)
const buildMs = performance.now() - t0
// The parser workers end once idle (WORKER_IDLE_MS): what stays is the index.
await Bun.sleep(WORKER_IDLE_MS + 500)
const afterBuild = settle()

// A warm restart: the persisted index loaded, every file stat-checked, nothing parsed.
index.close()
const t1 = performance.now()
index = await CodeIndex.open({ repos: repos.slice(0, used), dataDir, maxFileBytes: 10 << 20, pollMs: 0, watch: false, includeBuildDirs: true }, pool)
const restartMs = performance.now() - t1
await Bun.sleep(WORKER_IDLE_MS + 500)
const rss = settle()
const readable = [...index.repos.values()]

// Queries: half bare symbol names, half "words of the name plus words of its path".
const symbols: { symbol: string; path: string }[] = []
for (let doc = 0; doc < index.bm25.size; doc++) {
  if (!index.bm25.isAlive(doc) || !index.slots.isDefinition(doc)) continue
  const s = index.slots.get(doc)
  if (s.symbol.length >= 4) symbols.push({ symbol: s.symbol, path: index.fileByKey(s.file)!.path })
}
symbols.sort((a, b) => hash(a.symbol + a.path) - hash(b.symbol + b.path))
const queries = symbols.slice(0, 300).map((s, i) => (i % 2 ? s.symbol : `${s.symbol.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/_/g, ' ')} ${s.path.split('/').slice(-2).join(' ').replace(/\.[a-z]+$/, '')}`))
const timed = (run: () => void) => {
  const t = performance.now()
  run()
  return performance.now() - t
}
const warm = (qs: string[], run: (q: string) => void) => {
  for (const q of qs) run(q)
  const out: number[] = []
  for (let pass = 0; pass < 3; pass++) for (const q of qs) out.push(timed(() => run(q)))
  return out
}
const auto = warm(queries, (q) => searchCode(index, { query: q, limit: 10 }, readable))
const substrings = symbols.slice(300, 586).map((s) => s.symbol.slice(0, Math.max(6, Math.min(12, s.symbol.length))))
const exact = warm(substrings, (q) => searchCode(index, { query: q, mode: 'exact', limit: 10 }, readable))

// Incremental: an edit is re-read, re-parsed in the worker, written and searchable when refresh resolves.
const edits: number[] = []
for (let i = 0; i < EDITS; i++) {
  const marker = `freshly_edited_marker_${i}_${Date.now()}`
  writeFileSync(join(scratch, `edit${i}.py`), `def ${marker}():\n    return ${i}\n`)
  const t = performance.now()
  await index.refresh('scratch', [`edit${i}.py`])
  edits.push(performance.now() - t)
  if (searchCode(index, { query: marker }, readable).results[0]?.symbol !== marker) throw new Error(`edit ${i} not searchable after refresh`)
}
const diskBytes = readable.reduce((n, r) => {
  const p = join(dataDir, 'index', `${r.config.name}.db`)
  return n + (existsSync(p) ? readFileSync(p).byteLength : 0)
}, 0)

index.close()
pool.close()
rmSync(dataDir, { recursive: true, force: true })
rmSync(scratch, { recursive: true, force: true })
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d
console.log(
  `SCALE_JSON ${JSON.stringify({
    corpus: repos.slice(0, used).map((r) => r.name),
    files,
    lines,
    mb: round(bytes / 2 ** 20, 1),
    chunks: index.bm25.live,
    terms: index.bm25.terms,
    firstBuildS: round(coldMs / 1000, 1),
    buildS: round(buildMs / 1000, 2),
    linesPerS: Math.round(lines / (buildMs / 1000)),
    restartS: round(restartMs / 1000, 2),
    baselineRssMb: round(baseline, 1),
    rssAfterBuildMb: round(afterBuild, 1),
    rssMb: round(rss, 1),
    rssPerMillionLinesMb: round(((rss - baseline) * 1e6) / lines, 1),
    rankerMb: round(index.bm25.bytes / 2 ** 20, 1),
    diskMb: round(diskBytes / 2 ** 20, 1),
    search: { queries: queries.length, passes: 3, p50: round(percentile(auto, 50), 3), p90: round(percentile(auto, 90), 3), p99: round(percentile(auto, 99), 3) },
    exact: { queries: substrings.length, passes: 3, p50: round(percentile(exact, 50), 3), p99: round(percentile(exact, 99), 3) },
    edit: { files: EDITS, p50: round(percentile(edits, 50), 1), max: round(Math.max(...edits), 1) },
  })}`,
)
