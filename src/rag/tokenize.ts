/**
 * @module rag/tokenize
 * One tokenizer for indexing and querying: identifiers, lowercased, plus their camelCase and
 * snake_case parts (`parseJsonRpc` → `parsejsonrpc parse json rpc`), without one-letter words and
 * a few English stop words, with a plural `s` trimmed from long words. The same rule on both sides
 * is what lets "parse the JSON-RPC message" find `parseJsonRpcMessage`.
 */

const STOP = new Set([
  'the', 'and', 'for', 'with', 'this', 'that', 'from', 'are', 'was', 'its', 'into', 'not', 'but', 'you',
  'your', 'all', 'can', 'will', 'has', 'have', 'been', 'when', 'then', 'than', 'which', 'there', 'their',
  'one', 'our', 'any', 'also', 'use', 'used', 'each', 'if', 'of', 'to', 'in', 'is', 'it', 'on', 'or',
  'an', 'as', 'at', 'be', 'by', 'do', 'we', 'so', 'no', 'given', 'returns', 'return',
])

// Identifier runs; a non-global twin is not needed: the scan below uses lastIndex.
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*/g
const PART = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g

function normalize(word: string): string | undefined {
  if (word.length < 2 || word.length > 64) return undefined
  const w = word.toLowerCase()
  if (STOP.has(w)) return undefined
  return w.length > 4 && w.endsWith('s') && !w.endsWith('ss') ? w.slice(0, -1) : w
}

/** Calls `emit` once per token occurrence in `text`, in order. */
export function forEachToken(text: string, emit: (token: string) => void): void {
  WORD.lastIndex = 0
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
    const word = m[0]
    const whole = normalize(word)
    if (whole !== undefined) emit(whole)
    // Split only words that have parts; most identifiers in code bodies are single words.
    if (!/[a-z][A-Z]|_|[A-Z]{2}[a-z]|[0-9]/.test(word)) continue
    PART.lastIndex = 0
    for (let p = PART.exec(word); p !== null; p = PART.exec(word)) {
      const part = normalize(p[0])
      if (part !== undefined && part !== whole) emit(part)
    }
  }
}

/** Tokens of `text` with their counts. */
export function termCounts(text: string): Map<string, number> {
  const counts = new Map<string, number>()
  forEachToken(text, (t) => counts.set(t, (counts.get(t) ?? 0) + 1))
  return counts
}

/** Distinct tokens of `text`, in first-seen order. */
export function distinctTokens(text: string): string[] {
  return [...termCounts(text).keys()]
}

/** The path field's text: directories and name without extension, separators as spaces. */
export function pathText(path: string): string {
  return path.replace(/\.[A-Za-z0-9]+$/, '').replace(/[/._-]+/g, ' ')
}
