/**
 * Porter's stemmer against worked examples of the 1980 paper (per step) and whole-word results
 * that any correct implementation of the algorithm gives.
 */
import { expect, test } from 'bun:test'
import { porterStem } from '../../src/rag/stem.ts'

const cases: Record<string, string> = {
  // Step 1a: plurals.
  caresses: 'caress', ponies: 'poni', ties: 'ti', caress: 'caress', cats: 'cat',
  // Step 1b: -eed, -ed, -ing and the tidying after them.
  feed: 'feed', agreed: 'agre', plastered: 'plaster', bled: 'bled', motoring: 'motor', sing: 'sing',
  conflated: 'conflat', troubled: 'troubl', sized: 'size', hopping: 'hop', tanned: 'tan', falling: 'fall',
  hissing: 'hiss', fizzed: 'fizz', failing: 'fail', filing: 'file',
  // Step 1c: y after a vowel.
  happy: 'happi', sky: 'sky',
  // Steps 2 to 5, through the whole algorithm.
  relational: 'relat', conditional: 'condit', rational: 'ration', generalizations: 'gener', oscillators: 'oscil',
  connection: 'connect', connections: 'connect', connective: 'connect', connected: 'connect', connecting: 'connect',
  adjustable: 'adjust', electrical: 'electr', hopeful: 'hope', goodness: 'good', replacement: 'replac',
  adoption: 'adopt', controlling: 'control', rate: 'rate', cease: 'ceas', roll: 'roll',
}

test('the paper’s examples', () => {
  for (const [word, stem] of Object.entries(cases)) expect([word, porterStem(word)]).toEqual([word, stem])
})

test('short words are left alone', () => {
  expect(porterStem('is')).toBe('is')
  expect(porterStem('as')).toBe('as')
})
