/**
 * RFC 6570 matching for resource templates: `{var}` is one segment, `{+var}` may span several.
 */
import { expect, test } from 'bun:test'
import { compileUriTemplate } from '../../src/core/uri-template.ts'

test('a simple variable matches one path segment and is returned by name', () => {
  const t = compileUriTemplate('test://template/{id}/data')
  expect(t.variables).toEqual(['id'])
  expect(t.match('test://template/123/data')).toEqual({ id: '123' })
  expect(t.match('test://template/abc-def_1.2/data')).toEqual({ id: 'abc-def_1.2' })
})

test('a simple variable does not cross /, ? or #, and may not be empty', () => {
  const t = compileUriTemplate('test://template/{id}/data')
  for (const uri of ['test://template/1/2/data', 'test://template/1?x/data', 'test://template/1#x/data', 'test://template//data'])
    expect({ uri, match: t.match(uri) }).toEqual({ uri, match: undefined })
})

test('the whole URI must match: no prefix, suffix or partial matches', () => {
  const t = compileUriTemplate('test://template/{id}/data')
  for (const uri of ['xtest://template/1/data', 'test://template/1/data/more', 'test://template/1/dat', 'test://template/1/data?q=1'])
    expect({ uri, match: t.match(uri) }).toEqual({ uri, match: undefined })
})

test('a reserved {+var} expression spans slashes', () => {
  const t = compileUriTemplate('file:///{+path}')
  expect(t.match('file:///src/core/cursor.ts')).toEqual({ path: 'src/core/cursor.ts' })
})

test('several variables are each captured, and percent-encoding is decoded', () => {
  const t = compileUriTemplate('repo://{owner}/{name}/blob/{+path}')
  expect(t.variables).toEqual(['owner', 'name', 'path'])
  expect(t.match('repo://acme/my%20lib/blob/docs/a%2Fb.md')).toEqual({ owner: 'acme', name: 'my lib', path: 'docs/a/b.md' })
})

test('a malformed percent-escape is kept verbatim instead of throwing', () => {
  expect(compileUriTemplate('x://{id}').match('x://100%')).toEqual({ id: '100%' })
})

test('regex metacharacters in the literal parts are matched literally', () => {
  const t = compileUriTemplate('x://a.b+c/{id}(1)')
  expect(t.match('x://a.b+c/7(1)')).toEqual({ id: '7' })
  expect(t.match('x://aXbbc/7(1)')).toBeUndefined()
})
