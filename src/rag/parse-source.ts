/**
 * @module rag/parse-source
 * Source text → `ParsedFile`: a syntax tree and its chunks where a grammar exists and the text is
 * code-shaped, line windows otherwise. Runs in the parser worker (and in the evaluation harness).
 */
import { chunkTree, windowChunks, type ChunkOptions } from './chunker.ts'
import { parserFor } from './grammars.ts'
import type { ParsedFile } from './parsed-file.ts'

/** Lines longer than this mean generated or minified code: a syntax tree of it is no use to people. */
const MINIFIED_LINE = 1000

export async function parseSource(content: string, lang: string, options: ChunkOptions = {}): Promise<ParsedFile> {
  if (looksMinified(content)) return windowChunks(content, lang)
  const parser = await parserFor(lang)
  if (!parser) return windowChunks(content, lang)
  const tree = parser.parse(content)
  if (!tree) return windowChunks(content, lang)
  try {
    return chunkTree(tree, content, lang, options)
  } finally {
    tree.delete()
  }
}

function looksMinified(content: string): boolean {
  let start = 0
  while (start < content.length) {
    let end = content.indexOf('\n', start)
    if (end < 0) end = content.length
    if (end - start > MINIFIED_LINE) return true
    start = end + 1
  }
  return false
}
