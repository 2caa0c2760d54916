/**
 * @module rag/chunk-fields
 * What the ranker reads of a chunk: its text (body), its names (symbol) and its file's path.
 */
import type { FieldCounts } from './bm25.ts'
import type { ChunkRecord } from './parsed-file.ts'
import { nameWords, termCounts } from './tokenize.ts'

/**
 * The ranked fields of a chunk. Besides its name, a definition's symbol field holds its class (for
 * a method) and its declaration line (parameter names are often the words a description uses):
 * both raised MRR on the evaluation in bench/rag. The name's own words are kept apart too, for
 * ranking by how much of the name a query spells out.
 */
export function fieldsOf(chunk: Pick<ChunkRecord, 'symbol' | 'parent' | 'kind' | 'text'>, path: Map<string, number>): FieldCounts {
  const declaration = chunk.kind === 'module' || chunk.kind === 'window' ? '' : declarationLine(chunk.text)
  return { body: termCounts(chunk.text), symbol: termCounts(`${chunk.parent ?? ''} ${chunk.symbol} ${declaration}`), path, name: nameWords(chunk.symbol) }
}

const COMMENT_STARTS = ['//', '/*', '*', '#', '@', '"""', "'''"]

/** The first line of a definition that is not a comment or decorator, up to its body. */
function declarationLine(text: string): string {
  for (const line of text.split('\n', 12)) {
    const t = line.trim()
    if (t && !COMMENT_STARTS.some((c) => t.startsWith(c))) return t.replace(/\{.*$/, '')
  }
  return ''
}

