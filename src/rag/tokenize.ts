/**
 * @module rag/tokenize
 * One tokenizer for indexing and querying: identifiers, lowercased, plus their camelCase and
 * snake_case parts (`parseJsonRpc` → `parsejsonrpc parse json rpc`), without one-letter words and
 * a few English stop words. Every word then goes through the same normalisation on both sides, which
 * is what lets "parse the JSON-RPC messages" find `parseJsonRpcMessage`:
 *
 * - a common programming abbreviation becomes the word it stands for (`str` → `string`, `cfg` →
 *   `configuration`), because code abbreviates what descriptions spell out;
 * - Porter's stemmer (rag/stem), so "validates" and "validation" meet `validate`, and an agent noun
 *   whose stem Porter keeps (`handler`, `parser`, `reader`) meets its verb;
 * - a lowercase identifier glued from known words (`getprofile`, `itermonthdays`) also yields
 *   those words, as camelCase parts would. Python and C name things that way.
 *
 * Each was kept because it raised MRR@10 on the tuning half of bench/rag's docstring evaluation.
 */
import { porterStem } from './stem.ts'
import { VOCABULARY } from './vocabulary.ts'

const STOP = new Set([
  'the', 'and', 'for', 'with', 'this', 'that', 'from', 'are', 'was', 'its', 'into', 'not', 'but', 'you',
  'your', 'all', 'can', 'will', 'has', 'have', 'been', 'when', 'then', 'than', 'which', 'there', 'their',
  'one', 'our', 'any', 'also', 'use', 'used', 'each', 'if', 'of', 'to', 'in', 'is', 'it', 'on', 'or',
  'an', 'as', 'at', 'be', 'by', 'do', 'we', 'so', 'no', 'given', 'returns', 'return',
])

/** Abbreviation → the word it stands for; only unambiguous ones (`res` could be result or response). */
const ABBREVIATIONS = new Map<string, string>(
  pairs(`
    addr address alloc allocate arg argument args arguments attr attribute attrs attributes avg average
    bool boolean btn button buf buffer calc calculate cb callback cfg configuration char character
    chr character cmd command cmp compare cnt count col column cols columns concat concatenate conf configuration
    config configuration ctx context cur current curr current db database del delete delim delimiter
    desc description dest destination dict dictionary diff difference doc document docs documents
    dst destination dup duplicate elem element env environment err error esc escape eval evaluate
    exc exception exec execute expr expression ext extension fmt format fn function func function
    hdr header ident identifier idx index img image impl implementation info information init initialize
    int integer iter iterate lang language len length lib library lst list max maximum min minimum
    mod module msg message ns namespace num number obj object opt option opts options param parameter
    params parameters pkg package pos position prev previous proc process ptr pointer rand random
    recv receive rect rectangle ref reference refs references repo repository req request resp response
    sep separator seq sequence sig signature sock socket spec specification src source stmt statement
    str string sys system sz size tbl table temp temporary tmp temporary txt text usr user util utility
    utils utilities val value vals values var variable vars variables ver version
  `),
)

function pairs(list: string): [string, string][] {
  const words = list.trim().split(/\s+/)
  const out: [string, string][] = []
  for (let i = 0; i + 1 < words.length; i += 2) out.push([words[i]!, words[i + 1]!])
  return out
}

/** A compound's parts are at least this long: shorter ones matched too much by chance. */
const MIN_PART = 3

/**
 * The words a lowercase identifier may be glued from (a programming vocabulary, and the
 * abbreviations), built on first use rather than at import: their stems (an inflected known word
 * such as `protected` or `headers` is a word, not a compound), and hashes of the words and of their
 * prefixes, so that splitting walks a word one character at a time without slicing it. A hash only
 * guides the walk: a part is taken when the word set has it.
 */
let known: { words: Set<string>; stems: Set<string>; prefixes: Set<number>; ends: Set<number> } | undefined

function knownWords(): NonNullable<typeof known> {
  if (known) return known
  const words = new Set(ABBREVIATIONS.keys())
  for (const w of VOCABULARY.split(' ')) if (w.trim()) words.add(w.trim())
  known = { words, stems: new Set(), prefixes: new Set(), ends: new Set() }
  for (const w of words) {
    known.stems.add(porterStem(w))
    if (w.length < MIN_PART) continue
    let h = HASH_SEED
    for (let i = 0; i < w.length; i++) {
      h = hashStep(h, w.charCodeAt(i))
      known.prefixes.add(h)
    }
    known.ends.add(h)
  }
  return known
}

// FNV-1a over character codes, 32 bits.
const HASH_SEED = 0x811c9dc5
const hashStep = (h: number, c: number) => Math.imul(h ^ c, 0x01000193) >>> 0

/** What one lowercase word indexes as: its key, or for a compound its key then its parts' keys, or null for a stop word. */
type Analysis = string | string[] | null

// Analyses are cached: most words recur across chunks, and stemming and splitting every one again
// halved the tokenizer's throughput (measured over the Python standard library). The cache keeps
// the first CACHE_LIMIT words it sees and then stops growing: frequent words come early, its size
// stays a few megabytes, and its entries never turn into garbage for the collector.
const CACHE_LIMIT = 1 << 16
const cache = new Map<string, Analysis>()

/**
 * Empties the cache. Bulk indexing (a boot, a rebuild) is what fills it; its owner releases it
 * afterwards, so a server's steady state does not hold it (it fills again, to the same bound, only
 * as edits and queries bring new words). Measured: 8 MB of heap at a million lines.
 */
export function releaseTokenCache(): void {
  cache.clear()
}

function analyze(lower: string): Analysis {
  const a = cache.get(lower)
  if (a !== undefined) return a
  if (cache.size >= CACHE_LIMIT) return analyzeUncached(lower)
  // A word is a slice of the text it came from, and JavaScriptCore keeps a slice's whole source
  // alive, as do the stems sliced from it: what the cache keeps is derived from a copy (tokens are
  // ASCII, so a latin1 round trip is one).
  const own = Buffer.from(lower, 'latin1').toString('latin1')
  const analysis = analyzeUncached(own)
  cache.set(own, analysis)
  return analysis
}

function analyzeUncached(lower: string): Analysis {
  if (lower.length < 2 || lower.length > 64 || STOP.has(lower)) return null
  const abbreviation = ABBREVIATIONS.get(lower)
  const porter = porterStem(abbreviation ?? lower)
  const key = agentRoot(porter)
  // A known word, or an inflection of one, is not split; nor is anything too short to hold two parts.
  if (abbreviation !== undefined || lower.length < 2 * MIN_PART || !/^[a-z]+$/.test(lower)) return key
  const { words, stems } = knownWords()
  if (words.has(lower) || stems.has(porter)) return key
  const parts = compoundParts(lower)
  if (!parts) return key
  const keys = [key]
  for (const p of parts) {
    const k = keyOf(p)
    if (k !== undefined) keys.push(k)
  }
  return keys.length > 1 ? keys : key
}

function keyOf(lower: string): string | undefined {
  if (lower.length < 2 || lower.length > 64 || STOP.has(lower)) return undefined
  return agentRoot(porterStem(ABBREVIATIONS.get(lower) ?? lower))
}

/**
 * Porter leaves -er on a short stem (`handler`, `parser`, `reader`: m = 1). Code names roles with
 * agent nouns where descriptions use the verb ("handle the request"), so the -er goes too.
 */
function agentRoot(s: string): string {
  if (s.length < 5 || !s.endsWith('er')) return s
  let root = s.slice(0, -2)
  // `getter` → `get`, as `getting` → `get` in Porter's step 1b.
  if (root[root.length - 1] === root[root.length - 2] && !/[lsz]$/.test(root)) root = root.slice(0, -1)
  return root.length >= 3 ? root : s
}

/**
 * The known words `lower` is glued from, fewest parts (then the longest last part) first, or
 * undefined when it is not made of known words. Dynamic programming over the word's positions,
 * each reachable one walked while it spells a prefix of a known word: O(length × longest word).
 */
function compoundParts(lower: string): string[] | undefined {
  const { words, prefixes, ends } = knownWords()
  const n = lower.length
  // parts[i]: fewest parts covering lower[0, i) (0 = unreachable, else count + 1); from[i]: where the last starts.
  const parts = new Uint8Array(n + 1)
  const from = new Uint8Array(n + 1)
  parts[0] = 1
  for (let start = 0; start <= n - MIN_PART; start++) {
    if (parts[start] === 0) continue
    let h = HASH_SEED
    for (let end = start; end < n; ) {
      h = hashStep(h, lower.charCodeAt(end++))
      if (!prefixes.has(h)) break
      if (end - start < MIN_PART || !ends.has(h) || (parts[end] !== 0 && parts[start]! + 1 >= parts[end]!)) continue
      if (!words.has(lower.slice(start, end))) continue
      parts[end] = parts[start]! + 1
      from[end] = start
    }
  }
  if (parts[n]! < 3) return undefined
  const out: string[] = []
  for (let end = n; end > 0; end = from[end]!) out.unshift(lower.slice(from[end]!, end))
  return out
}

// Identifier runs; a non-global twin is not needed: the scan below uses lastIndex.
const WORD = /[A-Za-z_$][A-Za-z0-9_$]*/g
const PART = /[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+/g

/** Tokens of `text` with their counts, in first-seen order. */
export function termCounts(text: string): Map<string, number> {
  // Distinct identifiers first: a chunk repeats its words, and analysing one costs more than
  // counting it (measured: a fifth faster than analysing every occurrence).
  const words = new Map<string, number>()
  WORD.lastIndex = 0
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
    const word = m[0]
    if (word.length > 1) words.set(word, (words.get(word) ?? 0) + 1)
  }
  const counts = new Map<string, number>()
  for (const [word, n] of words) {
    const whole = analyze(word.toLowerCase())
    const wholeKey = whole === null || typeof whole === 'string' ? whole : whole[0]!
    if (wholeKey) counts.set(wholeKey, (counts.get(wholeKey) ?? 0) + n)
    // Split only words that have parts; most identifiers in code bodies are single words.
    if (!/[a-z][A-Z]|_|[A-Z]{2}[a-z]|[0-9]/.test(word)) {
      if (whole !== null && typeof whole !== 'string') for (let i = 1; i < whole.length; i++) counts.set(whole[i]!, (counts.get(whole[i]!) ?? 0) + n)
      continue
    }
    PART.lastIndex = 0
    for (let p = PART.exec(word); p !== null; p = PART.exec(word)) {
      const part = analyze(p[0].toLowerCase())
      if (part === null) continue
      if (typeof part === 'string') {
        if (part !== wholeKey) counts.set(part, (counts.get(part) ?? 0) + n)
        continue
      }
      if (part[0] && part[0] !== wholeKey) counts.set(part[0], (counts.get(part[0]) ?? 0) + n)
      for (let i = 1; i < part.length; i++) counts.set(part[i]!, (counts.get(part[i]!) ?? 0) + n)
    }
  }
  return counts
}

/**
 * The distinct words of a name (`get_build_version` → get, build, version; `settrace` → set,
 * trace), without the whole name as one token unless it has no parts. Called per candidate while
 * ranking, so it builds no count maps.
 */
export function nameWords(name: string): string[] {
  const out: string[] = []
  WORD.lastIndex = 0
  for (let m = WORD.exec(name); m !== null; m = WORD.exec(name)) {
    const word = m[0]
    if (word.length < 2) continue
    const whole = analyze(word.toLowerCase())
    if (!/[a-z][A-Z]|_|[A-Z]{2}[a-z]|[0-9]/.test(word)) {
      if (whole === null) continue
      if (typeof whole === 'string') out.push(whole)
      else for (let i = 1; i < whole.length; i++) out.push(whole[i]!)
      continue
    }
    PART.lastIndex = 0
    for (let p = PART.exec(word); p !== null; p = PART.exec(word)) {
      const part = analyze(p[0].toLowerCase())
      if (part === null) continue
      if (typeof part === 'string') out.push(part)
      else for (const k of part) if (k) out.push(k)
    }
  }
  return [...new Set(out)]
}

/** A term found through a word's prefix weighs this much against the word itself. */
const PREFIX_WEIGHT = 0.5
// Numbers standing alone in a query ("SHA-256", "RFC 6234"); code has them inside names (`sha256`).
const NUMBER = /(?<![A-Za-z0-9_$.])[0-9]{2,}(?![0-9])/g
const PLAIN_WORD = /^[A-Za-z][a-z]+$/

/**
 * The terms of a query, weighted: its tokens, numbers that stand alone (indexed as parts of names
 * like `sha256`), and, for each plain word, the indexed terms that are prefixes of it at half
 * weight. Code abbreviates by truncation (`mul` for multiply, `norm` for normalize, `gen` for
 * generate) more often than any table lists; `indexed` says which terms the index has, so
 * prefixes it lacks cost nothing at search time.
 */
export function queryTerms(text: string, indexed: (term: string) => boolean): Map<string, number> {
  const terms = termCounts(text)
  for (const [n] of text.matchAll(NUMBER)) terms.set(n, (terms.get(n) ?? 0) + 1)
  WORD.lastIndex = 0
  for (let m = WORD.exec(text); m !== null; m = WORD.exec(text)) {
    const word = m[0]
    if (!PLAIN_WORD.test(word)) continue
    const lower = word.toLowerCase()
    if (STOP.has(lower)) continue
    // At least three letters, and two fewer than the word: its own stem is already a term.
    for (let len = 3; len <= lower.length - 2; len++) {
      const prefix = keyOf(lower.slice(0, len))
      if (prefix !== undefined && !terms.has(prefix) && indexed(prefix)) terms.set(prefix, PREFIX_WEIGHT)
    }
  }
  return terms
}

/** The path field's text: directories and name without extension, separators as spaces. */
export function pathText(path: string): string {
  return path.replace(/\.[A-Za-z0-9]+$/, '').replace(/[/._-]+/g, ' ')
}
