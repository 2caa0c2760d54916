/**
 * The tokenizer, the same on both sides of the index: identifiers split into their words, words
 * stemmed, abbreviations spelled out, glued lowercase names split into known words; queries also
 * keep their numbers and try the indexed prefixes of their words.
 */
import { expect, test } from 'bun:test'
import { nameWords, queryTerms, termCounts } from '../../src/rag/tokenize.ts'

const tokens = (text: string) => [...termCounts(text).keys()]

test('identifiers split into their words; stop words and one-letter words go', () => {
  expect(tokens('parseJsonRPCMessages for the HTTP_server2 x')).toEqual(['parsejsonrpcmessag', 'pars', 'json', 'rpc', 'messag', 'http_server2', 'http', 'serv'])
  expect(termCounts('retry retries retried').get('retri')).toBe(3)
})

test('a description and the code it describes meet on the same stems', () => {
  // Inflections and derivations of one word, and agent nouns that Porter's stemmer keeps.
  expect(new Set(['validates', 'validation', 'validated', 'validating'].flatMap(tokens))).toEqual(new Set(['valid']))
  expect(tokens('handle handler')).toEqual(['handl'])
  expect(tokens('parse parser parsing')).toEqual(['pars'])
  expect(tokens('get getter')).toEqual(['get'])
  // Too short a root keeps its -er: `user` is not `us`.
  expect(tokens('user')).toEqual(['user'])
})

test('code abbreviations are the words they stand for', () => {
  expect(tokens('cfg')).toEqual(tokens('configuration'))
  expect(tokens('str')).toEqual(tokens('string'))
  expect(tokens('opts')).toEqual(tokens('options'))
  // In names too: `parseCfg` is parse + configuration.
  expect(tokens('parseCfg')).toContain(tokens('configuration')[0]!)
})

test('a lowercase name glued from known words also yields the words', () => {
  expect(tokens('settrace')).toEqual(['settrac', 'set', 'trace'])
  expect(tokens('findlinestarts')).toEqual(['findlinestart', 'find', 'line', 'start'])
  // Abbreviations are known words, and are spelled out once split off.
  expect(tokens('readbuf')).toEqual(['readbuf', 'read', ...tokens('buffer')])
  // A known word, or an inflection of one, is not split (`protected` is not protect + ed);
  // parts are three letters at least, so `isalpha` is not split on `is`.
  expect(tokens('protected')).toEqual(['protect'])
  expect(tokens('headers')).toEqual(tokens('header'))
  expect(tokens('isalpha')).toEqual(['isalpha'])
  // Not made of known words: left whole.
  expect(tokens('xyzzyplugh')).toEqual(['xyzzyplugh'])
})

test('the same word gives the same tokens however often it was seen before', () => {
  const once = tokens('getElementById settrace')
  for (let i = 0; i < 3; i++) expect(tokens('getElementById settrace')).toEqual(once)
})

test('queries keep standalone numbers, which code writes inside names', () => {
  // `sha256` is indexed as sha256, sha, 256; "SHA-256" and "RFC 6234" name the same things.
  expect(termCounts('sha256').has('256')).toBe(true)
  const q = queryTerms('Internal SHA-256 class per RFC 6234 §6.2', () => false)
  expect(q.get('256')).toBe(1)
  expect(q.get('6234')).toBe(1)
  expect(q.has('2')).toBe(false)
})

test('queries try the indexed prefixes of their words at half weight', () => {
  const indexed = new Set(['rot', 'rotat'])
  const q = queryTerms('Rotate the bits right', (t) => indexed.has(t))
  expect(q.get('rotat')).toBe(1)
  expect(q.get('rot')).toBe(0.5)
  // Only what the index has; never the word's own stem twice, never a stop word.
  expect([...queryTerms('Rotate the bits right', () => false).keys()]).toEqual(['rotat', 'bit', 'right'])
})

test("a name's words, for ranking", () => {
  expect(nameWords('get_build_version')).toEqual(['get', 'build', 'version'])
  expect(nameWords('settrace')).toEqual(['set', 'trace'])
  expect(nameWords('emit')).toEqual(['emit'])
  expect(nameWords('')).toEqual([])
})
