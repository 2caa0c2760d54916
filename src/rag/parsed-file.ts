/**
 * @module rag/parsed-file
 * What parsing one file yields: the chunks that are ranked, the symbols it defines, the names it
 * calls and the modules it imports. Plain data, so it crosses the parser worker's message port.
 */

export type ChunkKind = 'function' | 'method' | 'class' | 'interface' | 'type' | 'enum' | 'variable' | 'module' | 'window'

export interface ChunkRecord {
  /** 1-based, inclusive. */
  startLine: number
  endLine: number
  /** The definition's name; for `module` and `window` chunks, empty. */
  symbol: string
  kind: ChunkKind
  /** The enclosing class of a method, if any. */
  parent?: string
  /** What the ranker reads: the chunk's source (without its doc comment when docs are stripped). */
  text: string
}

export interface SymbolRecord {
  name: string
  kind: ChunkKind
  line: number
  endLine: number
  exported: boolean
  /** The declaration up to its body, on one line. */
  signature: string
  parent?: string
  /** The first paragraph of its doc comment or docstring, if any. */
  doc?: string
  /** 1 + decision points (if, loops, case, catch, &&, ||, ?:). */
  cyclomatic: number
  maxNesting: number
}

export interface RefRecord {
  name: string
  line: number
}

export interface ImportRecord {
  /** As written: `./store.ts`, `os.path`, `github.com/x/y`. */
  source: string
  names: string[]
  line: number
}

export interface ParsedFile {
  lang: string
  lines: number
  chunks: ChunkRecord[]
  symbols: SymbolRecord[]
  refs: RefRecord[]
  imports: ImportRecord[]
}
