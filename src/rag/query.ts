/**
 * @module rag/query
 * The search syntax: words and identifiers, `"quoted phrases"` that must appear as written, and
 * `path:` `lang:` `symbol:` `repo:` qualifiers. Parsed by hand: no part of a query ever becomes a
 * regular expression (JavaScript's have no time limit, so a user's pattern is a ReDoS risk).
 */

export interface ParsedQuery {
  /** The free words, for ranking. */
  text: string
  phrases: string[]
  path?: string
  lang?: string
  symbol?: string
  repo?: string
}

const QUALIFIERS = new Set(['path', 'lang', 'language', 'symbol', 'repo', 'file'])

export function parseQuery(raw: string): ParsedQuery {
  const words: string[] = []
  const q: ParsedQuery = { text: '', phrases: [] }
  let i = 0
  while (i < raw.length) {
    const c = raw[i]!
    if (c === ' ' || c === '\t' || c === '\n') {
      i++
      continue
    }
    if (c === '"') {
      const end = raw.indexOf('"', i + 1)
      const phrase = raw.slice(i + 1, end < 0 ? raw.length : end).trim()
      if (phrase) q.phrases.push(phrase)
      i = end < 0 ? raw.length : end + 1
      continue
    }
    let end = i
    while (end < raw.length && !' \t\n'.includes(raw[end]!)) end++
    const word = raw.slice(i, end)
    i = end
    const colon = word.indexOf(':')
    const key = colon > 0 ? word.slice(0, colon).toLowerCase() : ''
    if (QUALIFIERS.has(key) && colon < word.length - 1) {
      const value = word.slice(colon + 1)
      if (key === 'path' || key === 'file') q.path = value
      else if (key === 'lang' || key === 'language') q.lang = value
      else if (key === 'symbol') q.symbol = value
      else q.repo = value
    } else words.push(word)
  }
  q.text = words.join(' ')
  return q
}

/**
 * `*` matches any run of characters (slashes included) and `?` one character; anything else is
 * literal. Greedy with one backtrack point, so it runs in O(path × pattern) whatever the input.
 */
export function wildcardMatch(pattern: string, path: string): boolean {
  let p = 0
  let s = 0
  let star = -1
  let mark = 0
  while (s < path.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === path[s])) {
      p++
      s++
    } else if (p < pattern.length && pattern[p] === '*') {
      while (pattern[p] === '*') p++
      star = p
      mark = s
    } else if (star >= 0) {
      p = star
      s = ++mark
    } else return false
  }
  while (pattern[p] === '*') p++
  return p === pattern.length
}

/** A path filter: a prefix (`src/auth`), or a pattern when it has `*` or `?` (`src/**\/*.test.ts`). */
export function pathFilter(raw: string): (path: string) => boolean {
  const v = raw.trim().replace(/^\.?\/+/, '')
  if (/[*?]/.test(v)) return (path) => wildcardMatch(v, path)
  return (path) => path.startsWith(v)
}
