/**
 * The ranker: the symbol field outweighs the body, removed documents never come back, and a
 * filter keeps out what the caller may not see while the best of the rest still fill the page.
 */
import { expect, test } from 'bun:test'
import { Bm25Index } from '../../src/rag/bm25.ts'
import { termCounts } from '../../src/rag/tokenize.ts'

const doc = (body: string, symbol = '', path = 'src/x') => ({ body: termCounts(body), symbol: termCounts(symbol), path: termCounts(path) })

test('symbol matches outrank body mentions; removal and filters apply', () => {
  const index = new Bm25Index({ body: 1, symbol: 3, path: 1.5 })
  const mention = index.add(doc('we call parseConfig here and there'))
  const definition = index.add(doc('function body reading values', 'parseConfig'))
  const other = index.add(doc('unrelated text about tokens', 'tokenize'))
  const search = (q: string, accept?: (d: number) => boolean) => index.search(termCounts(q), 10, accept).hits.map((h) => h.doc)
  expect(search('parse config')).toEqual([definition, mention])
  index.remove(definition)
  expect(search('parse config')).toEqual([mention])
  expect(index.live).toBe(2)
  expect(search('parse config tokens', (d) => d !== mention)).toEqual([other])
  expect(index.search(termCounts('parse config tokens'), 1).matched).toBe(2)
})
