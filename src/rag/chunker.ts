/**
 * @module rag/chunker
 * Turns a syntax tree into chunks along definitions (one per top-level function, class, interface,
 * type or exported constant; a long class is split into its methods; a definition's doc comment goes
 * with it), with the leftover top-level lines grouped into `module` chunks. Also collects the
 * symbols with their signatures and complexity, the names called, and the imports. Text that has no
 * grammar, or does not parse into anything useful, is cut into line windows instead.
 */
import type { Node, Tree } from 'web-tree-sitter'
import type { ChunkKind, ChunkRecord, ImportRecord, ParsedFile, RefRecord, SymbolRecord } from './parsed-file.ts'
import { SPECS, type LanguageSpec } from './syntax-specs.ts'

export interface ChunkOptions {
  /** Leave doc comments out of the ranked text (the retrieval evaluation's rule: the query is the doc). */
  stripDocs?: boolean
}

/** Lines in a window chunk, and the most lines a group of leftover top-level lines may span. */
export const WINDOW_LINES = 60
const MODULE_LINES = 80
/** A class longer than this is split into one chunk per method. */
const SPLIT_CLASS_LINES = 80
const MAX_SIGNATURE = 200
const MAX_DOC = 300

/** Line windows: the fallback for text without a grammar, and for minified or unparsable code. */
export function windowChunks(content: string, lang: string): ParsedFile {
  const lines = splitLines(content)
  const chunks: ChunkRecord[] = []
  for (let start = 0; start < lines.length; start += WINDOW_LINES) {
    const end = Math.min(lines.length, start + WINDOW_LINES)
    const text = lines.slice(start, end).join('\n')
    if (text.trim() !== '') chunks.push({ startLine: start + 1, endLine: end, symbol: '', kind: 'window', text })
  }
  return { lang, lines: lines.length, chunks, symbols: [], refs: [], imports: [] }
}

export function splitLines(content: string): string[] {
  const lines = content.split('\n')
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop()
  return lines
}

interface Definition {
  /** The node that holds the whole definition (an `export` or decorator wrapper included). */
  outer: Node
  /** The definition itself. */
  node: Node
  kind: ChunkKind
  name: string
  exported: boolean
  parent?: string
  /** Row of the first doc comment line, and the doc text, when a doc comment is attached. */
  docRow?: number
  doc?: string
  /** Character ranges (relative to the file) of the doc comment, to strip. */
  docRange?: [number, number]
}

/** Chunks, symbols, refs and imports of one parsed file. */
export function chunkTree(tree: Tree, content: string, lang: string, options: ChunkOptions = {}): ParsedFile {
  const spec = SPECS[lang]
  if (!spec) return windowChunks(content, lang)
  const lines = splitLines(content)
  const root = tree.rootNode
  const defs = definitionsAmong(root.namedChildren, spec, lines)
  const chunks: ChunkRecord[] = []
  const symbols: SymbolRecord[] = []
  const symbolAt = new Map<number, SymbolRecord>()
  const addSymbol = (d: Definition) => {
    const s: SymbolRecord = {
      name: d.name,
      kind: d.kind,
      line: d.node.startPosition.row + 1,
      endLine: d.node.endPosition.row + 1,
      exported: d.exported,
      signature: signatureOf(d.node, spec),
      cyclomatic: 1,
      maxNesting: 0,
    }
    if (d.parent !== undefined) s.parent = d.parent
    if (d.doc) s.doc = d.doc
    symbols.push(s)
    symbolAt.set(d.node.startIndex, s)
  }
  const textOf = (startRow: number, endRow: number, strip?: [number, number][]) => {
    const text = lines.slice(startRow, endRow + 1).join('\n')
    if (!options.stripDocs || !strip?.length) return text
    // Offsets of the slice's first character in the file, to cut the doc ranges out of it.
    let base = 0
    for (let i = 0; i < startRow; i++) base += lines[i]!.length + 1
    let out = ''
    let at = 0
    for (const [from, to] of strip) {
      if (to <= base || from - base > text.length) continue
      out += text.slice(at, Math.max(at, from - base))
      at = Math.max(at, to - base)
    }
    return out + text.slice(at)
  }

  let gapStart = -1
  const flushGap = (untilRow: number) => {
    if (gapStart < 0) return
    for (let start = gapStart; start < untilRow; start += MODULE_LINES) {
      const end = Math.min(untilRow, start + MODULE_LINES) - 1
      const text = textOf(start, end)
      if (text.trim() !== '') chunks.push({ startLine: start + 1, endLine: end + 1, symbol: '', kind: 'module', text })
    }
    gapStart = -1
  }
  const memberChunk = (m: Definition, parent: string): ChunkRecord => {
    const mFirst = m.docRow ?? m.outer.startPosition.row
    return { startLine: mFirst + 1, endLine: m.outer.endPosition.row + 1, symbol: m.name, kind: 'method', parent, text: textOf(mFirst, m.outer.endPosition.row, m.docRange && [m.docRange]) }
  }
  let row = 0
  for (const d of defs) {
    const first = d.docRow ?? d.outer.startPosition.row
    if (first > row) {
      if (gapStart < 0) gapStart = row
      flushGap(first)
    }
    const last = d.outer.endPosition.row
    addSymbol(d)
    const members = d.kind === 'class' ? classMembers(d, spec, lines) : []
    for (const m of members) addSymbol(m)
    if (members.length > 0 && last - first + 1 > SPLIT_CLASS_LINES) {
      // The class keeps its header (declaration, fields) up to its first method.
      const firstMember = members[0]!.docRow ?? members[0]!.outer.startPosition.row
      const headEnd = Math.max(d.node.startPosition.row, firstMember - 1)
      chunks.push({ startLine: first + 1, endLine: headEnd + 1, symbol: d.name, kind: 'class', text: textOf(first, headEnd, d.docRange && [d.docRange]) })
      for (const m of members) chunks.push(memberChunk(m, d.name))
    } else {
      const strips = [d.docRange, ...members.map((m) => m.docRange)].filter((r): r is [number, number] => r !== undefined)
      const chunk: ChunkRecord = { startLine: first + 1, endLine: last + 1, symbol: d.name, kind: d.kind, text: textOf(first, last, strips) }
      if (d.parent !== undefined) chunk.parent = d.parent
      chunks.push(chunk)
    }
    row = Math.max(row, last + 1)
  }
  if (row < lines.length) {
    if (gapStart < 0) gapStart = row
    flushGap(lines.length)
  }

  const refs: RefRecord[] = []
  walkTree(tree, spec, symbolAt, refs)
  return { lang, lines: lines.length, chunks, symbols, refs, imports: importsOf(root, spec) }
}

/** Definitions among sibling nodes, each with the doc comment right above it. */
function definitionsAmong(children: Node[], spec: LanguageSpec, lines: string[], parent?: string): Definition[] {
  const out: Definition[] = []
  let comments: Node[] = []
  for (const child of children) {
    if (child.type === 'comment') {
      comments.push(child)
      continue
    }
    const d = definitionOf(child, spec, parent)
    if (d) {
      attachDoc(d, comments, spec, lines)
      out.push(d)
    }
    comments = []
  }
  return out
}

function definitionOf(outer: Node, spec: LanguageSpec, parent?: string): Definition | undefined {
  let node = outer
  let exported = false
  if (spec.wrappers.has(outer.type)) {
    const inner = outer.childForFieldName('declaration') ?? outer.childForFieldName('definition') ?? outer.namedChildren.find((c) => spec.defs[c.type] !== undefined)
    if (!inner) return undefined
    node = inner
    exported = outer.type === 'export_statement'
  }
  let kind = spec.defs[node.type]
  if (!kind) return undefined
  const name = spec.nameOf(node)
  if (!name) return undefined
  if (kind === 'variable') {
    // `const f = () => …` is a function; other constants are chunks only when exported.
    const value = firstDeclarator(node)?.childForFieldName('value')
    if (value && spec.functionValues.has(value.type)) kind = 'function'
    else if (!exported) return undefined
  }
  if (spec.exportedByName) exported = spec.exportedByName(name)
  // A Go method names its receiver's type as its parent.
  if (parent === undefined) parent = spec.receiverOf?.(node)
  const d: Definition = { outer, node, kind, name, exported }
  if (parent !== undefined) d.parent = parent
  return d
}

export function firstDeclarator(node: Node): Node | undefined {
  return node.namedChildren.find((c) => c.type === 'variable_declarator')
}

/** A class's methods, each with its own doc comment. */
function classMembers(cls: Definition, spec: LanguageSpec, lines: string[]): Definition[] {
  const body = cls.node.childForFieldName('body')
  if (!body) return []
  return definitionsAmong(body.namedChildren, spec, lines, cls.name)
    .filter((d) => d.kind === 'function' || d.kind === 'method')
    .map((d) => ({ ...d, kind: 'method' as const, exported: cls.exported }))
}

/** The doc comment right above a definition (at most one blank line between), or a Python docstring. */
function attachDoc(d: Definition, comments: Node[], spec: LanguageSpec, lines: string[]): void {
  if (spec.docstring) {
    const s = spec.docstring(d.node)
    if (s) {
      d.doc = cleanDoc(s.text)
      d.docRange = [s.startIndex, s.endIndex]
    }
    return
  }
  let start = -1
  let expectRow = d.outer.startPosition.row
  for (let i = comments.length - 1; i >= 0; i--) {
    const c = comments[i]!
    const gap = expectRow - c.endPosition.row
    if (gap > 2 || (gap === 2 && lines[c.endPosition.row + 1]?.trim() !== '')) break
    // Banners and commented-out code above a definition are not its documentation.
    if (!spec.isDocComment(c.text)) break
    start = i
    expectRow = c.startPosition.row
    // One JSDoc block is the doc; line comments (Go) run together.
    if (c.text.startsWith('/*')) break
  }
  if (start < 0) return
  const block = comments.slice(start)
  const doc = cleanDoc(block.map((c) => c.text).join('\n'))
  if (!doc) return
  d.doc = doc
  d.docRow = block[0]!.startPosition.row
  d.docRange = [block[0]!.startIndex, block[block.length - 1]!.endIndex]
}

/** The first paragraph of a comment, without comment markers, tags or examples. */
export function cleanDoc(raw: string): string {
  const text = raw
    .replace(/^\s*(?:\/\*\*?|\*\/|\*|\/\/+|#|r?"""|r?'''|"|')/gm, '')
    .replace(/(?:\*\/|"""|'''|"|')\s*$/gm, '')
  const paragraph: string[] = []
  for (const line of text.split('\n')) {
    const t = line.trim()
    if (t === '') {
      if (paragraph.length) break
      continue
    }
    if (/^(@|:param|:return|:raises|```|Example|>>>|Args:|Returns:|Raises:)/.test(t)) break
    paragraph.push(t)
  }
  return paragraph.join(' ').replace(/\{@link\s+([^}]+)\}/g, '$1').slice(0, MAX_DOC)
}

function signatureOf(node: Node, spec: LanguageSpec): string {
  const body = node.childForFieldName('body') ?? (node.type === 'lexical_declaration' ? undefined : null)
  let text = node.text
  if (body) text = text.slice(0, body.startIndex - node.startIndex)
  else text = text.split('\n')[0] ?? ''
  text = text.replace(/\s+/g, ' ').trim().replace(/[{:]\s*$/, '').trim()
  if (spec.docstring && text.endsWith(':')) text = text.slice(0, -1)
  return text.length > MAX_SIGNATURE ? `${text.slice(0, MAX_SIGNATURE - 1)}…` : text
}

/**
 * One pass over the whole tree: the names each call refers to, and each symbol's decision points
 * and deepest nesting (counted into the innermost definition that encloses them).
 */
function walkTree(tree: Tree, spec: LanguageSpec, symbolAt: Map<number, SymbolRecord>, refs: RefRecord[]): void {
  const cursor = tree.walk()
  const frames: { end: number; symbol: SymbolRecord; nesting: number[] }[] = []
  for (;;) {
    const type = cursor.nodeType
    const start = cursor.startIndex
    while (frames.length && frames[frames.length - 1]!.end <= start) frames.pop()
    const symbol = symbolAt.get(start)
    if (symbol && spec.defs[type]) frames.push({ end: cursor.endIndex, symbol, nesting: [] })
    const frame = frames[frames.length - 1]
    if (frame) {
      if (spec.branches.has(type) || (type === spec.logical && spec.isLogical(cursor.currentNode))) frame.symbol.cyclomatic++
      if (spec.nesting.has(type)) {
        while (frame.nesting.length && frame.nesting[frame.nesting.length - 1]! <= start) frame.nesting.pop()
        frame.nesting.push(cursor.endIndex)
        if (frame.nesting.length > frame.symbol.maxNesting) frame.symbol.maxNesting = frame.nesting.length
      }
    }
    if (spec.calls.has(type)) {
      const name = spec.calleeOf(cursor.currentNode)
      if (name) refs.push({ name, line: cursor.startPosition.row + 1 })
    }
    if (cursor.gotoFirstChild()) continue
    while (!cursor.gotoNextSibling()) {
      if (!cursor.gotoParent()) {
        cursor.delete()
        return
      }
    }
  }
}

function importsOf(root: Node, spec: LanguageSpec): ImportRecord[] {
  const out: ImportRecord[] = []
  for (const child of root.namedChildren) spec.importsOf(child, out)
  return out
}
