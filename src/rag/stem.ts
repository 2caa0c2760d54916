/**
 * @module rag/stem
 * English suffix stripping after M. F. Porter, "An algorithm for suffix stripping" (Program 14(3),
 * 1980), written from the paper's rules. It maps the inflected and derived forms a description
 * uses ("validates", "validation", "validating") to the stem that code names share with them
 * ("validate"). The output is a key, not a word: it only has to be the same on both sides of the
 * index. Input is a lowercase ASCII word.
 */

/** Whether letter `i` of `w` is a consonant: not a vowel, and `y` only after a vowel (or first). */
function consonant(w: string, i: number): boolean {
  const c = w.charCodeAt(i)
  // a e i o u
  if (c === 97 || c === 101 || c === 105 || c === 111 || c === 117) return false
  if (c === 121) return i === 0 || !consonant(w, i - 1)
  return true
}

/** m in [C](VC)^m[V]: the number of vowel-consonant sequences in `w[0, end)`. */
function measure(w: string, end: number): number {
  let m = 0
  let i = 0
  while (i < end && consonant(w, i)) i++
  for (;;) {
    while (i < end && !consonant(w, i)) i++
    if (i >= end) return m
    while (i < end && consonant(w, i)) i++
    m++
  }
}

function hasVowel(w: string, end: number): boolean {
  for (let i = 0; i < end; i++) if (!consonant(w, i)) return true
  return false
}

/** The stem ends with a double consonant. */
function doubleConsonant(w: string, end: number): boolean {
  return end >= 2 && w[end - 1] === w[end - 2] && consonant(w, end - 1)
}

/** The stem ends consonant-vowel-consonant, the last not w, x or y (`hop`, not `snow`). */
function cvc(w: string, end: number): boolean {
  if (end < 3 || !consonant(w, end - 1) || consonant(w, end - 2) || !consonant(w, end - 3)) return false
  const last = w[end - 1]
  return last !== 'w' && last !== 'x' && last !== 'y'
}

type Rule = readonly [suffix: string, replacement: string]

// Steps 2 and 3 (condition m > 0) and 4 (m > 1). The longest suffix that ends the word is the one
// considered; when its condition fails the word is left alone (the paper's rule). Steps 2-4 read
// them grouped by last letter, as the paper suggests for speed.
const STEP2: Rule[] = [
  ['ational', 'ate'], ['tional', 'tion'], ['enci', 'ence'], ['anci', 'ance'], ['izer', 'ize'], ['bli', 'ble'],
  ['alli', 'al'], ['entli', 'ent'], ['eli', 'e'], ['ousli', 'ous'], ['ization', 'ize'], ['ation', 'ate'],
  ['ator', 'ate'], ['alism', 'al'], ['iveness', 'ive'], ['fulness', 'ful'], ['ousness', 'ous'], ['aliti', 'al'],
  ['iviti', 'ive'], ['biliti', 'ble'], ['logi', 'log'],
]
const STEP3: Rule[] = [['icate', 'ic'], ['ative', ''], ['alize', 'al'], ['iciti', 'ic'], ['ical', 'ic'], ['ful', ''], ['ness', '']]
const STEP4 = ['al', 'ance', 'ence', 'er', 'ic', 'able', 'ible', 'ant', 'ement', 'ment', 'ent', 'ion', 'ou', 'ism', 'ate', 'iti', 'ous', 'ive', 'ize']

/** Rules by the last letter of their suffix, longest suffix first: the first that ends `w` is the one. */
function byLastLetter<T>(rules: readonly T[], suffix: (r: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const r of rules) {
    const last = suffix(r).slice(-1)
    const group = out.get(last) ?? []
    out.set(last, group)
    // Insertion by length: the groups are a few rules each, and Array.prototype.sort's first call
    // costs Bun megabytes of resident memory, not worth paying at import.
    let at = 0
    while (at < group.length && suffix(group[at]!).length >= suffix(r).length) at++
    group.splice(at, 0, r)
  }
  return out
}
const STEP2_BY = byLastLetter(STEP2, (r) => r[0])
const STEP3_BY = byLastLetter(STEP3, (r) => r[0])
const STEP4_BY = byLastLetter(STEP4, (r) => r)

function replaceIf(w: string, rules: Map<string, Rule[]>, minMeasure: number): string {
  for (const [suffix, replacement] of rules.get(w[w.length - 1]!) ?? []) {
    if (!w.endsWith(suffix)) continue
    const stem = w.length - suffix.length
    return measure(w, stem) > minMeasure ? w.slice(0, stem) + replacement : w
  }
  return w
}

export function porterStem(word: string): string {
  let w = word
  if (w.length <= 2) return w

  // Step 1a: plurals.
  if (w.endsWith('sses')) w = w.slice(0, -2)
  else if (w.endsWith('ies')) w = w.slice(0, -2)
  else if (!w.endsWith('ss') && w.endsWith('s')) w = w.slice(0, -1)

  // Step 1b: -eed, -ed, -ing.
  let tidy = false
  if (w.endsWith('eed')) {
    if (measure(w, w.length - 3) > 0) w = w.slice(0, -1)
  } else if (w.endsWith('ed') && hasVowel(w, w.length - 2)) {
    w = w.slice(0, -2)
    tidy = true
  } else if (w.endsWith('ing') && hasVowel(w, w.length - 3)) {
    w = w.slice(0, -3)
    tidy = true
  }
  if (tidy) {
    if (w.endsWith('at') || w.endsWith('bl') || w.endsWith('iz')) w += 'e'
    else if (doubleConsonant(w, w.length) && !/[lsz]$/.test(w)) w = w.slice(0, -1)
    else if (measure(w, w.length) === 1 && cvc(w, w.length)) w += 'e'
  }

  // Step 1c: y → i after a vowel in the stem.
  if (w.endsWith('y') && hasVowel(w, w.length - 1)) w = `${w.slice(0, -1)}i`

  w = replaceIf(w, STEP2_BY, 0)
  w = replaceIf(w, STEP3_BY, 0)

  // Step 4: drop a suffix from a long enough stem (-ion only after s or t).
  const s4 = STEP4_BY.get(w[w.length - 1]!)?.find((suffix) => w.endsWith(suffix))
  if (s4) {
    const stem = w.length - s4.length
    if (measure(w, stem) > 1 && (s4 !== 'ion' || w[stem - 1] === 's' || w[stem - 1] === 't')) w = w.slice(0, stem)
  }

  // Step 5: a final e, and a double l.
  if (w.endsWith('e')) {
    const m = measure(w, w.length - 1)
    if (m > 1 || (m === 1 && !cvc(w, w.length - 1))) w = w.slice(0, -1)
  }
  if (w.endsWith('ll') && measure(w, w.length) > 1) w = w.slice(0, -1)
  return w
}
