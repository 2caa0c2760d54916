/**
 * Speed and memory of the code index at scale, in a process of its own (so its RSS is the index's):
 * a cold index of about a million lines (Debian's Python standard library plus large JavaScript
 * and TypeScript in node_modules), then `search_code` latency in process (warm passes only),
 * exact-substring latency, and how soon an edited file is searchable. Prints one JSON line.
 * Two processes: this one builds the index cold and reads its RSS once the parser workers have
 * ended; a second one (`--measure`) opens the persisted index as a restarted server would and
 * takes the steady-state RSS and the latencies.
 *
 *   bun bench/rag/scale.ts [--lines 1000000]
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CodeIndex, type IndexSettings } from '../../src/rag/code-index.ts'
import { DEFAULT_PARSER_WORKERS, ParserPool, WORKER_IDLE_MS } from '../../src/rag/parser-pool.ts'
import type { RepoConfig } from '../../src/rag/repo-config.ts'
import { searchCode } from '../../src/rag/search.ts'
import { walkRepository } from '../../src/rag/walker.ts'
import { SCALE_ROOTS } from './corpora.ts'
import { hash } from './metrics.ts'

const argv = process.argv.slice(2)
const target = Number(argv[argv.indexOf('--lines') + 1] || 1_000_000)
const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}
const rssMb = () => process.memoryUsage().rss / 2 ** 20
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d
const newlines = (bytes: Uint8Array) => {
  let n = 0
  for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, i + 1)) n++
  return n
}
const fileSize = (path: string) => (existsSync(path) ? statSync(path).size : 0)
function settle(): number {
  Bun.gc(true)
  Bun.gc(true)
  return rssMb()
}

const settings = (repos: RepoConfig[], dataDir: string): IndexSettings => ({ repos, dataDir, maxFileBytes: MAX_FILE_BYTES, pollMs: 0, watch: false, includeBuildDirs: true })
const MAX_FILE_BYTES = 10 << 20
const EDITS = 20

if (!argv.includes('--measure')) {
  const dataDir = mkdtempSync(join(tmpdir(), 'mcprag-scale-'))
  const scratch = mkdtempSync(join(tmpdir(), 'mcprag-scratch-'))
  // Files the incremental measurement edits: copies, never the originals.
  for (let i = 0; i < EDITS; i++) writeFileSync(join(scratch, `edit${i}.py`), `def placeholder_${i}():\n    return ${i}\n`)
  const repos: RepoConfig[] = [{ name: 'scratch', path: scratch, rootReal: scratch, tier: 'user' }]
  // Roots are added, whole, until the corpus passes the target.
  let estimate = 0
  for (const c of SCALE_ROOTS()) {
    if (estimate >= target || !existsSync(c.path)) continue
    repos.push({ name: c.name, path: c.path, rootReal: c.path, tier: 'user' })
    for (const f of walkRepository(c.path, { maxFileBytes: MAX_FILE_BYTES, includeBuildDirs: true }).files) estimate += newlines(readFileSync(f.abs))
  }
  const baseline = settle()
  const pool = new ParserPool(DEFAULT_PARSER_WORKERS)
  const t0 = performance.now()
  const index = await CodeIndex.open(settings(repos, dataDir), pool)
  const buildMs = performance.now() - t0
  // The parser workers end once idle (WORKER_IDLE_MS): what stays is the index.
  await Bun.sleep(WORKER_IDLE_MS + 500)
  const afterBuild = settle()
  const lines = [...index.repos.values()].reduce((n, r) => n + [...r.files.values()].reduce((m, f) => m + f.lines, 0), 0)
  const built = {
    corpus: repos.map((r) => r.name),
    files: [...index.repos.values()].reduce((n, r) => n + r.files.size, 0),
    lines,
    mb: round([...index.repos.values()].reduce((n, r) => n + [...r.files.values()].reduce((m, f) => m + f.size, 0), 0) / 2 ** 20, 1),
    chunks: index.bm25.live,
    terms: index.bm25.terms,
    workers: DEFAULT_PARSER_WORKERS,
    buildS: round(buildMs / 1000, 2),
    linesPerS: Math.round(lines / (buildMs / 1000)),
    buildBaselineRssMb: round(baseline, 1),
    rssAfterBuildMb: round(afterBuild, 1),
    rankerMb: round(index.bm25.bytes / 2 ** 20, 1),
    diskMb: round(repos.reduce((n, r) => n + fileSize(join(dataDir, 'index', `${r.name}.db`)), 0) / 2 ** 20, 1),
  }
  index.close()
  pool.close()
  const child = Bun.spawnSync(['bun', import.meta.path, '--measure', dataDir, JSON.stringify(repos)], { stdout: 'pipe', stderr: 'pipe' })
  rmSync(dataDir, { recursive: true, force: true })
  rmSync(scratch, { recursive: true, force: true })
  const m = /MEASURE_JSON (\{.*\})/.exec(child.stdout.toString())
  if (!m) throw new Error(`the measuring process failed (exit ${child.exitCode}): ${child.stderr.toString().slice(-800)}`)
  const measured = JSON.parse(m[1]!) as { baselineRssMb: number; rssMb: number }
  console.log(`SCALE_JSON ${JSON.stringify({ ...built, ...measured, rssPerMillionLinesMb: round(((measured.rssMb - measured.baselineRssMb) * 1e6) / lines, 1) })}`)
  process.exit(0)
}

const dataDir = argv[argv.indexOf('--measure') + 1]!
const repos = JSON.parse(argv[argv.indexOf('--measure') + 2]!) as RepoConfig[]
const baseline = settle()
const pool = new ParserPool(DEFAULT_PARSER_WORKERS)
// A restart: the persisted index loaded, every file stat-checked, nothing parsed.
const t1 = performance.now()
const index = await CodeIndex.open(settings(repos, dataDir), pool)
const restartMs = performance.now() - t1
// The walk ran in a parser worker, which ends once idle: what stays is the index.
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
  writeFileSync(join(repos[0]!.path, `edit${i}.py`), `def ${marker}():\n    return ${i}\n`)
  const t = performance.now()
  await index.refresh('scratch', [`edit${i}.py`])
  edits.push(performance.now() - t)
  if (searchCode(index, { query: marker }, readable).results[0]?.symbol !== marker) throw new Error(`edit ${i} not searchable after refresh`)
}
index.close()
pool.close()
console.log(
  `MEASURE_JSON ${JSON.stringify({
    restartS: round(restartMs / 1000, 2),
    // Sized from the build's record, so smaller than the build's own (which grew as it went).
    rankerMb: round(index.bm25.bytes / 2 ** 20, 1),
    baselineRssMb: round(baseline, 1),
    rssMb: round(rss, 1),
    search: { queries: queries.length, passes: 3, p50: round(percentile(auto, 50), 3), p90: round(percentile(auto, 90), 3), p99: round(percentile(auto, 99), 3) },
    exact: { queries: substrings.length, passes: 3, p50: round(percentile(exact, 50), 3), p99: round(percentile(exact, 99), 3) },
    edit: { files: EDITS, p50: round(percentile(edits, 50), 1), max: round(Math.max(...edits), 1) },
  })}`,
)
