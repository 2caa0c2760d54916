/**
 * @module rag/code-index
 * The index's lifecycle, for every configured repository: load what was persisted, walk, find the
 * files whose size or mtime changed, hash them and re-parse only those whose bytes changed (in the
 * parser workers), write them in one transaction per batch, and swap their chunks in the in-memory
 * ranker. A watcher does the same for single files as soon as they change; a periodic walk catches
 * what a watcher can miss. Every change moves the repository's `revision`.
 */
import { mkdirSync, readFileSync, writeFileSync, type FSWatcher } from 'node:fs'
import { lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { Bm25Index, type SizeHint, type Weights } from './bm25.ts'
import { fieldsOf } from './chunk-fields.ts'
import { gitCommit } from './git-head.ts'
import { SqliteIndexStore, type ChunkRow } from './index-store.ts'
import { languageOf } from './languages.ts'
import type { FileParser } from './parser-pool.ts'
import type { FileResult } from './parse-worker.ts'
import type { ChunkRecord } from './parsed-file.ts'
import type { RepoConfig } from './repo-config.ts'
import { watchRepository } from './repo-watcher.ts'
import { SlotTable } from './slot-table.ts'
import { pathText, releaseTokenCache, termCounts } from './tokenize.ts'
import { isIndexable, type WalkEntry, type WalkOptions, type WalkResult } from './walker.ts'

export interface IndexSettings {
  repos: RepoConfig[]
  /** Where `index/<repo>.db` files live; `:memory:` keeps them in memory (tests, evaluation). */
  dataDir: string
  maxFileBytes: number
  /** A full walk this often, in ms (0: never); the watcher handles single changes in between. */
  pollMs: number
  watch: boolean
  /** Leave doc comments out of the ranked text (retrieval evaluation only). */
  stripDocs?: boolean
  includeBuildDirs?: boolean
  weights?: Weights
  /** Absolute paths never walked (the server's data directory). */
  excludePaths?: string[]
  now?: () => number
}

export interface IndexedFile {
  key: number
  repo: RepoState
  path: string
  lang: string
  id: number
  size: number
  mtimeMs: number
  sha256: string
  lines: number
  indexedAt: number
  test: boolean
  slots: number[]
}

export interface RepoState {
  readonly config: RepoConfig
  readonly store: SqliteIndexStore
  readonly files: Map<string, IndexedFile>
  readonly byId: Map<number, IndexedFile>
  /** XOR of sha256(path NUL sha256) over the files: updated per file, order-free. */
  readonly digest: Uint8Array
  /** `digest` as shown, computed when first asked for after a change. */
  revision?: string
  commit?: string
  lastScanAt?: number
  lastScanMs?: number
  lastError?: string
  skipped: Record<string, number>
  /** Paths seen changed and not yet re-indexed. */
  pending: number
}

export type FileChange = { repo: string; path: string; change: 'added' | 'changed' | 'removed' }

/** A walk's outcome, its changed files already being parsed. */
interface ScanPlan {
  started: number
  skipped: WalkResult['skipped']
  unchanged: number
  gone: IndexedFile[]
  parsing: Promise<FileResult[]>[]
}

export interface ScanSummary {
  repo: string
  added: number
  changed: number
  removed: number
  unchanged: number
  ms: number
}

/**
 * Ranking weights for chunk results. rag.md §3.2 measured 1/3/1.5 on other corpora; on this
 * project's evaluation (bench/rag), with the richer symbol field of `fieldsOf`, 1/1.5/1 did
 * better on both TypeScript and Python docstring queries.
 */
export const DEFAULT_WEIGHTS: Weights = { body: 1, symbol: 1.5, path: 1 }
const BATCH_FILES = 48
const BATCH_BYTES = 1 << 20
/** Rebuild the ranker when this share of its documents is tombstones. */
const COMPACT_RATIO = 0.25

const TEST_PATH = /(^|\/)(tests?|__tests__|spec|specs|testing)\/|[._-](test|spec)\.[a-z]+$|(^|\/)test_[^/]*\.py$|_test\.go$/

export class CodeIndex {
  readonly settings: IndexSettings
  readonly repos = new Map<string, RepoState>()
  #bm25: Bm25Index
  #slots = new SlotTable()
  readonly #filesByKey: (IndexedFile | undefined)[] = []
  readonly #parser: FileParser
  readonly #listeners = new Set<(changes: FileChange[]) => void>()
  readonly #watchers: FSWatcher[] = []
  #timer: ReturnType<typeof setInterval> | undefined
  #serial: Promise<unknown> = Promise.resolve()
  #closed = false
  readonly #now: () => number

  private constructor(settings: IndexSettings, parser: FileParser, sizeHint?: SizeHint) {
    this.settings = settings
    this.#parser = parser
    this.#now = settings.now ?? Date.now
    this.#bm25 = new Bm25Index(settings.weights ?? DEFAULT_WEIGHTS, sizeHint)
  }

  /** Opens every repository's store, loads it, and brings it up to date with one walk. */
  static async open(settings: IndexSettings, parser: FileParser): Promise<CodeIndex> {
    const persisted = settings.dataDir !== ':memory:'
    const hintPath = join(settings.dataDir, 'index', 'ranker-size.json')
    const index = new CodeIndex(settings, parser, persisted ? readSizeHint(hintPath) : undefined)
    if (persisted) mkdirSync(join(settings.dataDir, 'index'), { recursive: true, mode: 0o700 })
    for (const config of settings.repos) {
      const path = settings.dataDir === ':memory:' ? ':memory:' : join(settings.dataDir, 'index', `${config.name}.db`)
      const repo: RepoState = { config, store: new SqliteIndexStore(path), files: new Map(), byId: new Map(), digest: new Uint8Array(32), skipped: {}, pending: 0 }
      index.repos.set(config.name, repo)
      index.#load(repo)
    }
    // Every walk starts now. While one repository is applied, the next one's files are already
    // queued for the parser workers behind it (one repository ahead, so parsed files waiting to be
    // applied stay bounded): this thread never waits on a walk, the workers rarely on this thread.
    const repos = [...index.repos.values()]
    const walks = repos.map((repo) => index.#walk(repo))
    for (const w of walks) w.catch(() => {})
    /** Repository i's plan, made once `after` (the previous plan) has queued its files. */
    const planned = (i: number, after: Promise<unknown>) => {
      const plan = after.catch(() => {}).then(() => index.#plan(repos[i]!, walks[i]!))
      plan.catch(() => {}) // awaited, with its error, by #runScan
      return plan
    }
    let next = repos.length > 0 ? planned(0, Promise.resolve()) : undefined
    for (const [i, repo] of repos.entries()) {
      const plan = next!
      if (i + 1 < repos.length) next = planned(i + 1, plan)
      await index.#exclusive(() => index.#runScan(repo, plan))
    }
    releaseTokenCache()
    if (persisted) writeFileSync(hintPath, JSON.stringify(index.#bm25.sizeHint), { mode: 0o600 })
    return index
  }

  get bm25(): Bm25Index {
    return this.#bm25
  }
  get slots(): SlotTable {
    return this.#slots
  }
  fileByKey(key: number): IndexedFile | undefined {
    return this.#filesByKey[key]
  }
  get parser(): FileParser {
    return this.#parser
  }

  /** The repository's content revision: changes whenever any indexed file's bytes do. */
  revision(repo: RepoState): string {
    repo.revision ??= Buffer.from(repo.digest.subarray(0, 6)).toString('hex')
    return repo.revision
  }

  onChange(listener: (changes: FileChange[]) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  /** Starts the watchers and the periodic walk, as configured. */
  start(): void {
    if (this.settings.watch) for (const repo of this.repos.values()) this.#watch(repo)
    if (this.settings.pollMs > 0) {
      this.#timer = setInterval(() => {
        for (const name of this.repos.keys()) void this.scan(name).catch(() => {})
      }, this.settings.pollMs)
      this.#timer.unref?.()
    }
  }

  close(): void {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    for (const w of this.#watchers.splice(0)) w.close()
    for (const repo of this.repos.values()) repo.store.close()
  }

  /** Walk one repository and bring its index up to date. Runs after any work already queued. */
  scan(name: string): Promise<ScanSummary> {
    return this.#exclusive(async () => {
      const repo = this.repos.get(name)
      if (!repo) throw new Error(`no repository named "${name}"`)
      return this.#runScan(repo, this.#plan(repo, this.#walk(repo)))
    })
  }

  #walk(repo: RepoState): Promise<WalkResult> {
    return this.#parser.walk(repo.config.path, this.#walkOptions())
  }

  /** What a walk found changed, with its files already sent to the parser workers (nothing applied yet). */
  async #plan(repo: RepoState, walk: Promise<WalkResult>): Promise<ScanPlan> {
    const started = performance.now()
    const walked = await walk
    const seen = new Set<string>()
    const jobs: WalkEntry[] = []
    let unchanged = 0
    for (const entry of walked.files) {
      seen.add(entry.rel)
      const known = repo.files.get(entry.rel)
      if (known && known.size === entry.size && known.mtimeMs === entry.mtimeMs) unchanged++
      else jobs.push(entry)
    }
    const gone = [...repo.files.values()].filter((f) => !seen.has(f.path))
    return { started, skipped: walked.skipped, unchanged, gone, parsing: this.#startParsing(repo, jobs) }
  }

  /** Apply a plan: its removals, then its parsed files in walk order. */
  async #runScan(repo: RepoState, plan: Promise<ScanPlan>): Promise<ScanSummary> {
    let started = performance.now()
    const summary: ScanSummary = { repo: repo.config.name, added: 0, changed: 0, removed: 0, unchanged: 0, ms: 0 }
    try {
      const p = await plan
      started = p.started
      repo.skipped = p.skipped
      summary.unchanged = p.unchanged
      const changes: FileChange[] = this.#remove(repo, p.gone)
      summary.removed = p.gone.length
      changes.push(...(await this.#applyParsed(repo, p.parsing, summary)))
      repo.commit = gitCommit(repo.config.path)
      repo.lastError = undefined
      this.#maybeCompact()
      this.#emit(changes)
    } catch (err) {
      repo.lastError = err instanceof Error ? err.message : String(err)
      throw err
    } finally {
      summary.ms = Math.round(performance.now() - started)
      repo.lastScanAt = this.#now()
      repo.lastScanMs = summary.ms
    }
    return summary
  }

  /** Re-index a few paths of one repository now (what the watcher calls). */
  refresh(name: string, paths: string[]): Promise<FileChange[]> {
    const repo = this.repos.get(name)
    if (!repo) return Promise.resolve([])
    repo.pending += paths.length
    return this.#exclusive(async () => {
      repo.pending = Math.max(0, repo.pending - paths.length)
      const jobs: WalkEntry[] = []
      const gone: IndexedFile[] = []
      const options = this.#walkOptions()
      for (const rel of new Set(paths)) {
        const known = repo.files.get(rel)
        const abs = join(repo.config.path, rel)
        const stat = await statOrUndefined(abs)
        if (!stat || !stat.isFile() || stat.size > this.settings.maxFileBytes || !isIndexable(repo.config.path, rel, options)) {
          if (known) gone.push(known)
          continue
        }
        if (known && known.size === stat.size && known.mtimeMs === stat.mtimeMs) continue
        jobs.push({ rel, abs, lang: languageOfKnown(rel), size: stat.size, mtimeMs: stat.mtimeMs })
      }
      const changes = this.#remove(repo, gone)
      changes.push(...(await this.#applyParsed(repo, this.#startParsing(repo, jobs), { repo: name, added: 0, changed: 0, removed: 0, unchanged: 0, ms: 0 })))
      this.#maybeCompact()
      this.#emit(changes)
      return changes
    })
  }

  #walkOptions(): WalkOptions {
    return { maxFileBytes: this.settings.maxFileBytes, excludePaths: this.settings.excludePaths, includeBuildDirs: this.settings.includeBuildDirs }
  }

  #exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#serial.then(work, work)
    this.#serial = run.catch(() => {})
    return run
  }

  #emit(changes: FileChange[]): void {
    if (changes.length === 0) return
    for (const l of this.#listeners) {
      try {
        l(changes)
      } catch (err) {
        console.error('[index] change listener failed:', err)
      }
    }
  }

  /** Rebuild the in-memory part of a repository from its store (at boot). */
  #load(repo: RepoState): void {
    const chunksByFile = new Map<number, ChunkRow[]>()
    for (const c of repo.store.chunks()) {
      const list = chunksByFile.get(c.file_id)
      if (list) list.push(c)
      else chunksByFile.set(c.file_id, [c])
    }
    for (const row of repo.store.files()) {
      const content = repo.store.content(row.id) ?? ''
      const lines = content.split('\n')
      const chunks = (chunksByFile.get(row.id) ?? []).map((c) => ({ id: c.id, record: { startLine: c.start_line, endLine: c.end_line, symbol: c.symbol, kind: c.kind, parent: c.parent ?? undefined, text: lines.slice(c.start_line - 1, c.end_line).join('\n') } }))
      this.#install(repo, { path: row.path, lang: row.lang, id: row.id, size: row.size, mtimeMs: row.mtime_ms, sha256: row.sha256, lines: row.lines, indexedAt: row.indexed_at }, chunks)
    }
  }

  /** Send `jobs` to the parser workers in batches, all at once (the pool spreads them over its workers). */
  #startParsing(repo: RepoState, jobs: WalkEntry[]): Promise<FileResult[]>[] {
    const batches: WalkEntry[][] = []
    let batch: WalkEntry[] = []
    let bytes = 0
    for (const job of jobs) {
      batch.push(job)
      bytes += job.size
      if (batch.length >= BATCH_FILES || bytes >= BATCH_BYTES) {
        batches.push(batch)
        batch = []
        bytes = 0
      }
    }
    if (batch.length) batches.push(batch)
    const rootReal = repo.config.rootReal
    const parsing = batches.map((b) => this.#parser.parseFiles(rootReal, b.map((j) => ({ abs: j.abs, rel: j.rel, lang: j.lang, sha256: repo.files.get(j.rel)?.sha256 })), { maxBytes: this.settings.maxFileBytes, stripDocs: this.settings.stripDocs }))
    // Rejections are awaited in #applyParsed, in order; none may go unhandled meanwhile.
    for (const p of parsing) p.catch(() => {})
    return parsing
  }

  /**
   * Apply parsed batches in walk order (chunks get the same ids, and equal scores the same order,
   * on every build), each as soon as it and those before it are back.
   */
  async #applyParsed(repo: RepoState, parsing: Promise<FileResult[]>[], summary: ScanSummary): Promise<FileChange[]> {
    const changes: FileChange[] = []
    for (const p of parsing) {
      const results = await p
      if (this.#closed) break
      changes.push(...this.#apply(repo, results, summary))
    }
    return changes
  }

  #apply(repo: RepoState, results: FileResult[], summary: ScanSummary): FileChange[] {
    const changes: FileChange[] = []
    const now = this.#now()
    const parsed = results.filter((r) => r.status === 'parsed')
    const written = repo.store.writeFiles(parsed.map((r) => ({ path: r.rel, lang: r.parsed.lang, size: r.size, mtimeMs: r.mtimeMs, sha256: r.sha256, content: r.content, parsed: r.parsed })), now)
    parsed.forEach((r, i) => {
      const { fileId, chunkIds } = written[i]!
      const existed = repo.files.has(r.rel)
      this.#install(repo, { path: r.rel, lang: r.parsed.lang, id: fileId, size: r.size, mtimeMs: r.mtimeMs, sha256: r.sha256, lines: r.parsed.lines, indexedAt: now }, r.parsed.chunks.map((c, j) => ({ id: chunkIds[j]!, record: c })))
      if (existed) summary.changed++
      else summary.added++
      changes.push({ repo: repo.config.name, path: r.rel, change: existed ? 'changed' : 'added' })
    })
    const gone: IndexedFile[] = []
    for (const r of results) {
      if (r.status === 'unchanged') {
        repo.store.touchFile(r.rel, r.size, r.mtimeMs)
        const f = repo.files.get(r.rel)
        if (f) Object.assign(f, { size: r.size, mtimeMs: r.mtimeMs })
        summary.unchanged++
      } else if (r.status === 'skipped') {
        repo.skipped[r.reason] = (repo.skipped[r.reason] ?? 0) + 1
        const f = repo.files.get(r.rel)
        if (f) gone.push(f)
      }
    }
    changes.push(...this.#remove(repo, gone))
    return changes
  }

  /** Put one file's chunks in the ranker, replacing what it had. */
  #install(repo: RepoState, meta: Omit<IndexedFile, 'key' | 'repo' | 'test' | 'slots'>, chunks: { id: number; record: ChunkRecord }[]): void {
    const old = repo.files.get(meta.path)
    if (old) this.#uninstall(old)
    const key = old?.key ?? this.#filesByKey.length
    const file: IndexedFile = { ...meta, key, repo, test: TEST_PATH.test(meta.path), slots: [] }
    const path = termCounts(pathText(meta.path))
    for (const { id, record } of chunks) {
      const doc = this.#bm25.add(fieldsOf(record, path))
      this.#slots.set(doc, { chunkId: id, file: key, start: record.startLine, end: record.endLine, kind: record.kind, symbol: record.symbol, parent: record.parent })
      file.slots.push(doc)
    }
    this.#filesByKey[key] = file
    repo.files.set(meta.path, file)
    repo.byId.set(meta.id, file)
    xorInto(repo.digest, meta.path, meta.sha256)
    repo.revision = undefined
  }

  #uninstall(file: IndexedFile): void {
    for (const doc of file.slots) this.#bm25.remove(doc)
    file.repo.files.delete(file.path)
    file.repo.byId.delete(file.id)
    this.#filesByKey[file.key] = undefined
    xorInto(file.repo.digest, file.path, file.sha256)
    file.repo.revision = undefined
  }

  #remove(repo: RepoState, files: IndexedFile[]): FileChange[] {
    if (files.length === 0) return []
    repo.store.deleteFiles(files.map((f) => f.id))
    for (const f of files) this.#uninstall(f)
    return files.map((f) => ({ repo: repo.config.name, path: f.path, change: 'removed' as const }))
  }

  /** Too many tombstones make every query pay for them: re-add the live chunks to a fresh ranker. */
  #maybeCompact(): void {
    const bm25 = this.#bm25
    if (bm25.size < 1000 || bm25.size - bm25.live < bm25.size * COMPACT_RATIO) return
    const fresh = new Bm25Index(bm25.weights, bm25.sizeHint)
    const slots = new SlotTable()
    for (const file of this.#filesByKey) {
      if (!file) continue
      const content = file.repo.store.content(file.id) ?? ''
      const lines = content.split('\n')
      const path = termCounts(pathText(file.path))
      const next: number[] = []
      for (const old of file.slots) {
        const s = this.#slots.get(old)
        const doc = fresh.add(fieldsOf({ ...s, text: lines.slice(s.start - 1, s.end).join('\n') }, path))
        slots.set(doc, { ...s })
        next.push(doc)
      }
      file.slots = next
    }
    this.#bm25 = fresh
    this.#slots = slots
    releaseTokenCache()
  }

  #watch(repo: RepoState): void {
    const { name, path } = repo.config
    const watcher = watchRepository(name, path, (paths) => {
      if (this.#closed) return
      void this.refresh(name, paths).catch((err) => console.error(`[index] ${name}: re-indexing failed:`, err))
    })
    if (watcher) this.#watchers.push(watcher)
  }
}

/** The ranker's size when this corpus was last loaded, if recorded and readable. */
function readSizeHint(path: string): SizeHint | undefined {
  try {
    const h = JSON.parse(readFileSync(path, 'utf8')) as SizeHint
    return [h.ints, h.terms, h.docs].every((n) => Number.isInteger(n) && n >= 0 && n < 2 ** 31) ? h : undefined
  } catch {
    return undefined
  }
}

function xorInto(digest: Uint8Array, path: string, sha256: string): void {
  const h = new Bun.CryptoHasher('sha256').update(`${path}\0${sha256}`).digest()
  for (let i = 0; i < 32; i++) digest[i]! ^= h[i]!
}

async function statOrUndefined(abs: string) {
  try {
    const s = await lstat(abs)
    // A symbolic link is never indexed, whatever it points at.
    return s.isSymbolicLink() ? undefined : s
  } catch {
    return undefined
  }
}

const languageOfKnown = (rel: string) => languageOf(rel) ?? 'text'
