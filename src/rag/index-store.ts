/**
 * @module rag/index-store
 * One repository's index on disk (bun:sqlite, WAL, mode 0600): the indexed bytes of every file,
 * its chunks, symbols, calls and imports, and a trigram FTS5 table over it for exact
 * substrings. Ranking is not done here (see `bm25.ts`); this is what survives a restart and what
 * answers exact and graph questions.
 */
import { Database, type Statement } from 'bun:sqlite'
import { chmodSync, existsSync } from 'node:fs'
import type { ChunkKind, ParsedFile, SymbolRecord } from './parsed-file.ts'

const SCHEMA_VERSION = 2
/** Lines of a chunk kept as its snippet, and the longest snippet line. */
export const SNIPPET_LINES = 12
const SNIPPET_LINE_CHARS = 200
/** The most snippets one query reads (search_code's largest page). */
const MAX_SNIPPETS = 50

export interface FileRow {
  id: number
  path: string
  lang: string
  size: number
  mtime_ms: number
  sha256: string
  lines: number
  indexed_at: number
}

export interface ChunkRow {
  id: number
  file_id: number
  start_line: number
  end_line: number
  symbol: string
  kind: ChunkKind
  parent: string | null
}

export interface SymbolRow {
  file_id: number
  name: string
  kind: ChunkKind
  line: number
  end_line: number
  exported: number
  signature: string
  parent: string | null
  doc: string | null
  cyclomatic: number
  max_nesting: number
}

export interface RefRow {
  file_id: number
  name: string
  line: number
}

export interface ImportRow {
  file_id: number
  source: string
  names: string
  line: number
}

export interface FileWrite {
  path: string
  lang: string
  size: number
  mtimeMs: number
  sha256: string
  content: string
  parsed: ParsedFile
}

const DDL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
  id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, lang TEXT NOT NULL, size INTEGER NOT NULL,
  mtime_ms REAL NOT NULL, sha256 TEXT NOT NULL, lines INTEGER NOT NULL, indexed_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS segments (id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, start_line INTEGER NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS segments_file ON segments(file_id, start_line);
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, start_line INTEGER NOT NULL, end_line INTEGER NOT NULL,
  symbol TEXT NOT NULL, kind TEXT NOT NULL, parent TEXT, snippet TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_file ON chunks(file_id);
CREATE TABLE IF NOT EXISTS symbols (
  file_id INTEGER NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, line INTEGER NOT NULL, end_line INTEGER NOT NULL,
  exported INTEGER NOT NULL, signature TEXT NOT NULL, parent TEXT, doc TEXT, cyclomatic INTEGER NOT NULL, max_nesting INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS symbols_file ON symbols(file_id);
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name);
CREATE TABLE IF NOT EXISTS refs (file_id INTEGER NOT NULL, name TEXT NOT NULL, line INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS refs_file ON refs(file_id);
CREATE INDEX IF NOT EXISTS refs_name ON refs(name);
CREATE TABLE IF NOT EXISTS imports (file_id INTEGER NOT NULL, source TEXT NOT NULL, names TEXT NOT NULL, line INTEGER NOT NULL, stem TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS imports_file ON imports(file_id);
CREATE INDEX IF NOT EXISTS imports_stem ON imports(stem);
CREATE VIRTUAL TABLE IF NOT EXISTS grams USING fts5(text, content='segments', content_rowid='id', tokenize='trigram', detail='none');
CREATE TRIGGER IF NOT EXISTS segments_ai AFTER INSERT ON segments BEGIN
  INSERT INTO grams(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER IF NOT EXISTS segments_ad AFTER DELETE ON segments BEGIN
  INSERT INTO grams(grams, rowid, text) VALUES ('delete', old.id, old.text);
END;
`

/**
 * A file's bytes are stored once, as segments of whole lines (at most SEGMENT_LINES lines or about
 * SEGMENT_CHARS characters), and the trigram table indexes segments: an exact search then verifies
 * a few kilobytes per candidate, never a whole multi-megabyte file.
 */
const SEGMENT_LINES = 100
const SEGMENT_CHARS = 16 * 1024

export interface SegmentRow {
  file_id: number
  start_line: number
  text: string
}

export function segmentsOf(content: string): { startLine: number; text: string }[] {
  const out: { startLine: number; text: string }[] = []
  let start = 0
  let line = 1
  while (start < content.length) {
    let end = start
    let count = 0
    // Whole lines until either limit is reached (so a segment ends with at most one long line).
    while (end < content.length && count < SEGMENT_LINES && (count === 0 || end - start < SEGMENT_CHARS)) {
      const nl = content.indexOf('\n', end)
      end = nl < 0 ? content.length : nl + 1
      count++
    }
    out.push({ startLine: line, text: content.slice(start, end) })
    line += count
    start = end
  }
  return out
}

/** The last path segment without extension, lowercased: how an import and a file find each other. */
export function importStem(source: string, lang: string): string {
  if (lang === 'python') return (source.split('.').filter(Boolean).pop() ?? source).toLowerCase()
  const last = source.replace(/\/+$/, '').split('/').pop() ?? source
  return last.replace(/\.(d\.ts|tsx?|jsx?|mjs|cjs)$/, '').toLowerCase()
}

export function fileStem(path: string): string {
  const name = path.slice(path.lastIndexOf('/') + 1).replace(/\.[^.]+$/, '').replace(/\.d$/, '')
  // A package's index file, and any Go file, is imported by its folder's name.
  if (name === 'index' || name === '__init__' || path.endsWith('.go')) {
    const dir = path.split('/').slice(-2, -1)[0]
    if (dir) return dir.toLowerCase()
  }
  return name.toLowerCase()
}

function snippetOf(lines: string[], start: number, end: number): string {
  return lines
    .slice(start - 1, Math.min(end, start - 1 + SNIPPET_LINES))
    .map((l) => (l.length > SNIPPET_LINE_CHARS ? `${l.slice(0, SNIPPET_LINE_CHARS)}…` : l))
    .join('\n')
}

export class SqliteIndexStore {
  readonly #db: Database
  readonly #q: Record<string, Statement>
  readonly #snippetQueries = new Map<number, Statement>()

  constructor(path: string) {
    const fresh = !existsSync(path)
    this.#db = new Database(path, { create: true, strict: true })
    if (fresh && path !== ':memory:') chmodSync(path, 0o600)
    // A small page cache: reads are snippets and single files, and the OS caches the file anyway.
    this.#db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = OFF; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -1024')
    const version = (this.#db.query('PRAGMA user_version').get() as { user_version: number }).user_version
    if (version !== 0 && version !== SCHEMA_VERSION) {
      // An index is derived data: a different schema is rebuilt, never migrated.
      this.#db.exec('DROP TABLE IF EXISTS grams; DROP TABLE IF EXISTS segments; DROP TABLE IF EXISTS files; DROP TABLE IF EXISTS chunks; DROP TABLE IF EXISTS symbols; DROP TABLE IF EXISTS refs; DROP TABLE IF EXISTS imports; DROP TABLE IF EXISTS meta')
    }
    this.#db.exec(DDL)
    this.#db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`)
    const q = (sql: string) => this.#db.query(sql)
    this.#q = {
      fileByPath: q('SELECT id FROM files WHERE path = ?'),
      fileExists: q('SELECT 1 FROM files WHERE id = ?'),
      insertFile: q('INSERT INTO files (path, lang, size, mtime_ms, sha256, lines, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      updateFile: q('UPDATE files SET lang = ?, size = ?, mtime_ms = ?, sha256 = ?, lines = ?, indexed_at = ? WHERE id = ?'),
      insertSegment: q('INSERT INTO segments (file_id, start_line, text) VALUES (?, ?, ?)'),
      deleteSegments: q('DELETE FROM segments WHERE file_id = ?'),
      touchFile: q('UPDATE files SET size = ?, mtime_ms = ? WHERE path = ?'),
      deleteFile: q('DELETE FROM files WHERE id = ?'),
      deleteChunks: q('DELETE FROM chunks WHERE file_id = ?'),
      deleteSymbols: q('DELETE FROM symbols WHERE file_id = ?'),
      deleteRefs: q('DELETE FROM refs WHERE file_id = ?'),
      deleteImports: q('DELETE FROM imports WHERE file_id = ?'),
      insertChunk: q('INSERT INTO chunks (file_id, start_line, end_line, symbol, kind, parent, snippet) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id'),
      insertSymbol: q('INSERT INTO symbols (file_id, name, kind, line, end_line, exported, signature, parent, doc, cyclomatic, max_nesting) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      insertRef: q('INSERT INTO refs (file_id, name, line) VALUES (?, ?, ?)'),
      insertImport: q('INSERT INTO imports (file_id, source, names, line, stem) VALUES (?, ?, ?, ?, ?)'),
      content: q('SELECT text FROM segments WHERE file_id = ? ORDER BY start_line'),
      symbolsOfFile: q('SELECT * FROM symbols WHERE file_id = ? ORDER BY line'),
      symbolsNamed: q('SELECT * FROM symbols WHERE name = ? LIMIT 50'),
      refsOfFile: q('SELECT file_id, name, line FROM refs WHERE file_id = ? ORDER BY line'),
      refsNamed: q('SELECT file_id, name, line FROM refs WHERE name = ? LIMIT ?'),
      importsOfFile: q('SELECT file_id, source, names, line FROM imports WHERE file_id = ? ORDER BY line'),
      importsByStem: q('SELECT file_id, source, names, line FROM imports WHERE stem = ? LIMIT 500'),
      grams: q('SELECT s.file_id, s.start_line, s.text FROM grams JOIN segments s ON s.id = grams.rowid WHERE grams MATCH ? ORDER BY grams.rowid'),
      getMeta: q('SELECT value FROM meta WHERE key = ?'),
      setMeta: q('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    }
  }

  files(): FileRow[] {
    return this.#db.query('SELECT id, path, lang, size, mtime_ms, sha256, lines, indexed_at FROM files ORDER BY id').all() as FileRow[]
  }

  chunks(): ChunkRow[] {
    return this.#db.query('SELECT id, file_id, start_line, end_line, symbol, kind, parent FROM chunks ORDER BY id').all() as ChunkRow[]
  }

  /** Writes many files in one transaction; returns each file's id and its new chunks' ids. */
  writeFiles(writes: FileWrite[], now: number): { fileId: number; chunkIds: number[] }[] {
    const run = this.#db.transaction((batch: FileWrite[]) => batch.map((w) => this.#writeFile(w, now)))
    return run(writes)
  }

  #writeFile(w: FileWrite, now: number): { fileId: number; chunkIds: number[] } {
    const q = this.#q
    const existing = q.fileByPath!.get(w.path) as { id: number } | null
    let fileId: number
    if (existing) {
      fileId = existing.id
      for (const del of [q.deleteChunks!, q.deleteSymbols!, q.deleteRefs!, q.deleteImports!, q.deleteSegments!]) del.run(fileId)
      q.updateFile!.run(w.lang, w.size, w.mtimeMs, w.sha256, w.parsed.lines, now, fileId)
    } else {
      fileId = Number(q.insertFile!.run(w.path, w.lang, w.size, w.mtimeMs, w.sha256, w.parsed.lines, now).lastInsertRowid)
    }
    for (const seg of segmentsOf(w.content)) q.insertSegment!.run(fileId, seg.startLine, seg.text)
    const lines = w.content.split('\n')
    const chunkIds = w.parsed.chunks.map((c) => (q.insertChunk!.get(fileId, c.startLine, c.endLine, c.symbol, c.kind, c.parent ?? null, snippetOf(lines, c.startLine, c.endLine)) as { id: number }).id)
    for (const s of w.parsed.symbols) this.#insertSymbol(fileId, s)
    for (const r of w.parsed.refs) q.insertRef!.run(fileId, r.name, r.line)
    for (const i of w.parsed.imports) q.insertImport!.run(fileId, i.source, i.names.join(','), i.line, importStem(i.source, w.lang))
    return { fileId, chunkIds }
  }

  #insertSymbol(fileId: number, s: SymbolRecord): void {
    this.#q.insertSymbol!.run(fileId, s.name, s.kind, s.line, s.endLine, s.exported ? 1 : 0, s.signature, s.parent ?? null, s.doc ?? null, s.cyclomatic, s.maxNesting)
  }

  /** A file whose bytes did not change but whose size or mtime did. */
  touchFile(path: string, size: number, mtimeMs: number): void {
    this.#q.touchFile!.run(size, mtimeMs, path)
  }

  deleteFiles(ids: number[]): void {
    const q = this.#q
    this.#db.transaction(() => {
      for (const id of ids) for (const del of [q.deleteChunks!, q.deleteSymbols!, q.deleteRefs!, q.deleteImports!, q.deleteSegments!, q.deleteFile!]) del.run(id)
    })()
  }

  /** The indexed bytes of a file, or undefined when there is no such file. */
  content(fileId: number): string | undefined {
    const rows = this.#q.content!.all(fileId) as { text: string }[]
    if (rows.length === 0) return this.#q.fileExists!.get(fileId) ? '' : undefined
    return rows.length === 1 ? rows[0]!.text : rows.map((r) => r.text).join('')
  }

  /** Snippets of several chunks in one query (a search's page of hits). */
  snippets(chunkIds: number[]): Map<number, string> {
    const n = Math.min(chunkIds.length, MAX_SNIPPETS)
    let q = this.#snippetQueries.get(n)
    if (!q) this.#snippetQueries.set(n, (q = this.#db.query(`SELECT id, snippet FROM chunks WHERE id IN (${Array(n).fill('?').join(',')})`)))
    const rows = q.all(...chunkIds.slice(0, n)) as { id: number; snippet: string }[]
    return new Map(rows.map((r) => [r.id, r.snippet]))
  }

  symbolsOfFile(fileId: number): SymbolRow[] {
    return this.#q.symbolsOfFile!.all(fileId) as SymbolRow[]
  }

  symbolsNamed(name: string): SymbolRow[] {
    return this.#q.symbolsNamed!.all(name) as SymbolRow[]
  }

  refsOfFile(fileId: number): RefRow[] {
    return this.#q.refsOfFile!.all(fileId) as RefRow[]
  }

  refsNamed(name: string, limit: number): RefRow[] {
    return this.#q.refsNamed!.all(name, limit) as RefRow[]
  }

  importsOfFile(fileId: number): ImportRow[] {
    return this.#q.importsOfFile!.all(fileId) as ImportRow[]
  }

  importsByStem(stem: string): ImportRow[] {
    return this.#q.importsByStem!.all(stem) as ImportRow[]
  }

  /**
   * The segments that hold every trigram of `needle` (case-insensitive), in file order, read
   * lazily: the caller verifies each and stops when it has enough. (Letting SQLite verify with
   * `LIKE` would read every candidate first.) `needle` needs 3+ characters.
   */
  *segmentsWithTrigramsOf(needle: string): Generator<SegmentRow> {
    const grams = new Set<string>()
    for (let i = 0; i + 3 <= needle.length; i++) grams.add(needle.slice(i, i + 3))
    if (grams.size === 0) return
    // Each trigram alone is a one-token phrase; detail=none tables refuse longer phrases.
    const match = [...grams].map((g) => `"${g.replaceAll('"', '""')}"`).join(' AND ')
    yield* this.#q.grams!.iterate(match) as IterableIterator<SegmentRow>
  }

  getMeta(key: string): string | undefined {
    return (this.#q.getMeta!.get(key) as { value: string } | null)?.value
  }

  setMeta(key: string, value: string): void {
    this.#q.setMeta!.run(key, value)
  }

  close(): void {
    this.#db.close()
  }
}
