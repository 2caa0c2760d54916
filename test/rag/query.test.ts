/**
 * The search syntax, parsed by hand, and path patterns matched without regular expressions: a
 * pattern built to make backtracking matchers explode is answered at once.
 */
import { expect, test } from 'bun:test'
import { parseQuery, pathFilter, wildcardMatch } from '../../src/rag/query.ts'

test('words, quoted phrases and qualifiers', () => {
  expect(parseQuery('parse "json body" path:src/http lang:ts symbol:read repo:app extra:thing')).toEqual({
    text: 'parse extra:thing',
    phrases: ['json body'],
    path: 'src/http',
    lang: 'ts',
    symbol: 'read',
    repo: 'app',
  })
  expect(parseQuery('"unterminated phrase')).toEqual({ text: '', phrases: ['unterminated phrase'] })
  expect(parseQuery('path: lonely')).toEqual({ text: 'path: lonely', phrases: [] })
})

test('path filters: prefixes, and * ? patterns in linear time', () => {
  expect(pathFilter('src/auth')('src/auth/totp.ts')).toBe(true)
  expect(pathFilter('./src/auth')('src/authz.ts')).toBe(true)
  expect(pathFilter('src/**/*.test.ts')('src/a/b/c.test.ts')).toBe(true)
  expect(pathFilter('src/*.ts')('lib/a.ts')).toBe(false)
  expect(wildcardMatch('a?c', 'abc')).toBe(true)
  expect(wildcardMatch('a?c', 'ac')).toBe(false)
  const hostile = `${'*a'.repeat(200)}*b`
  expect(wildcardMatch(hostile, 'a'.repeat(5000))).toBe(false)
})
