/**
 * @module transports/json-limits
 * The shape limits every JSON body and WebSocket frame must meet before it is parsed: at most
 * `maxBytes`, nested at most `maxDepth` levels, with at most `maxKeys` object members in all.
 * `JSON.parse` holds the event loop for as long as it runs, and what it builds is walked again
 * afterwards (validation, the audit digest): a million nested brackets or a hundred thousand
 * keys cost far more than their bytes suggest. One linear scan (about 1 ms per MB; long strings
 * are skipped with `indexOf`) finds them before any of that work starts.
 */

export interface JsonLimits {
  /** Largest accepted body or frame, in bytes. */
  maxBytes: number
  /** Deepest nesting of objects and arrays. */
  maxDepth: number
  /** Object members (keys) in the whole document. */
  maxKeys: number
}

/** Why a document was refused before parsing: what to send instead. */
export type ShapeProblem = { kind: 'depth' | 'keys'; message: string }

const QUOTE = 34
const BACKSLASH = 92
const OPEN_OBJECT = 123
const OPEN_ARRAY = 91
const CLOSE_OBJECT = 125
const CLOSE_ARRAY = 93
const COLON = 58

/**
 * What is wrong with the shape of `text`, if anything. Malformed JSON is not judged here (the
 * parser says precisely why); only brackets and colons outside strings are counted.
 */
export function jsonShapeProblem(text: string, limits: JsonLimits): ShapeProblem | undefined {
  let depth = 0
  let keys = 0
  const n = text.length
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i)
    if (c === QUOTE) {
      i = closingQuote(text, i)
      continue
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > limits.maxDepth)
        return { kind: 'depth', message: `the JSON nests deeper than ${limits.maxDepth} levels of objects and arrays; send a flatter document` }
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) depth--
    else if (c === COLON && ++keys > limits.maxKeys)
      return { kind: 'keys', message: `the JSON has more than ${limits.maxKeys} object keys; send fewer fields` }
  }
  return undefined
}

/** The index of the quote closing the string opened at `open` (or the end of the text). */
function closingQuote(text: string, open: number): number {
  let at = text.indexOf('"', open + 1)
  while (at !== -1) {
    let backslashes = 0
    while (text.charCodeAt(at - 1 - backslashes) === BACKSLASH) backslashes++
    if (backslashes % 2 === 0) return at
    at = text.indexOf('"', at + 1)
  }
  return text.length
}

/** Parse `text` within `limits`: the value, or why not (a shape problem or the parser's message). */
export function parseLimitedJson(text: string, limits: JsonLimits): { value: unknown } | { shape: ShapeProblem } | { syntax: string } {
  const shape = jsonShapeProblem(text, limits)
  if (shape) return { shape }
  try {
    return { value: JSON.parse(text) }
  } catch (err) {
    return { syntax: (err as Error).message }
  }
}
