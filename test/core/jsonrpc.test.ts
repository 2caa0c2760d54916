/**
 * `classify`: the one gate every incoming JSON value passes before the core sees it.
 */
import { describe, expect, test } from 'bun:test'
import { classify, failure, notification, success } from '../../src/core/jsonrpc.ts'

describe('classify', () => {
  test('a message with method and a string or integer id is a request, id 0 included', () => {
    for (const id of [0, 7, -3, 'abc', '']) {
      const m = { jsonrpc: '2.0' as const, id, method: 'tools/list', params: { cursor: 'c' } }
      expect(classify(m)).toEqual({ kind: 'request', message: m })
    }
  })

  test('a message with method and no id is a notification', () => {
    const m = { jsonrpc: '2.0' as const, method: 'notifications/initialized' }
    expect(classify(m)).toEqual({ kind: 'notification', message: m })
  })

  test('a message with result or error and an id is a response', () => {
    const ok = { jsonrpc: '2.0' as const, id: 'srv.1', result: { action: 'accept' } }
    const bad = { jsonrpc: '2.0' as const, id: 2, error: { code: -32601, message: 'no', data: { x: 1 } } }
    expect(classify(ok)).toEqual({ kind: 'response', message: ok })
    expect(classify(bad)).toEqual({ kind: 'response', message: bad })
  })

  test('an error response may carry a null id (the peer could not read ours)', () => {
    expect(classify({ jsonrpc: '2.0', id: null, error: { code: -32700, message: 'parse' } }).kind).toBe('response')
  })

  test('non-objects are invalid with a null id', () => {
    for (const v of [null, 1, 'x', true, [1, 2], []])
      expect(classify(v)).toEqual({ kind: 'invalid', id: null, error: { code: -32600, message: 'Invalid Request: a JSON-RPC message must be a JSON object' } })
  })

  test('each broken rule is named, and a readable id is kept for the error', () => {
    const cases: [unknown, RegExp, string | number | null][] = [
      [{ id: 1, method: 'ping' }, /"jsonrpc" must be the string "2.0"/, 1],
      [{ jsonrpc: 2, id: 'a', method: 'ping' }, /"jsonrpc" must be the string "2.0"/, 'a'],
      [{ jsonrpc: '2.0', id: 1, method: 5 }, /"method" must be a non-empty string/, 1],
      [{ jsonrpc: '2.0', id: 1, method: '' }, /"method" must be a non-empty string/, 1],
      [{ jsonrpc: '2.0', id: 1, method: 'x', params: [] }, /"params" must be an object/, 1],
      [{ jsonrpc: '2.0', id: 1, method: 'x', params: null }, /"params" must be an object/, 1],
      [{ jsonrpc: '2.0', id: null, method: 'x' }, /"id" must be a string or an integer/, null],
      [{ jsonrpc: '2.0', id: 1.25, method: 'x' }, /"id" must be a string or an integer/, null],
      [{ jsonrpc: '2.0', id: true, method: 'x' }, /"id" must be a string or an integer/, null],
      [{ jsonrpc: '2.0', id: [], result: {} }, /response "id" must be a string or an integer/, null],
      [{ jsonrpc: '2.0', id: 3, result: {}, error: { code: 1, message: 'm' } }, /either "result" or "error", not both/, 3],
      [{ jsonrpc: '2.0', id: 3, result: [] }, /"result" must be an object/, 3],
      [{ jsonrpc: '2.0', id: 3, error: { code: '1', message: 'm' } }, /numeric "code" and a string "message"/, 3],
      [{ jsonrpc: '2.0', id: 3, error: { code: 1 } }, /numeric "code" and a string "message"/, 3],
      [{ jsonrpc: '2.0', id: 3 }, /needs "method" \(request\/notification\) or "result"\/"error" \(response\)/, 3],
    ]
    for (const [value, says, id] of cases) {
      const c = classify(value)
      expect({ value, kind: c.kind, id: c.kind === 'invalid' ? c.id : undefined }).toEqual({ value, kind: 'invalid', id })
      if (c.kind === 'invalid') {
        expect(c.error.code).toBe(-32600)
        expect(c.error.message).toMatch(says)
      }
    }
  })

  test('a prototype-polluting key is just data, not a method lookup', () => {
    const m = JSON.parse('{"jsonrpc":"2.0","id":1,"method":"__proto__","params":{"__proto__":{"polluted":true}}}') as unknown
    expect(classify(m).kind).toBe('request')
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
  })
})

describe('message builders', () => {
  test('success, failure and notification build exactly the JSON-RPC shapes', () => {
    expect(success(1, { a: 1 })).toEqual({ jsonrpc: '2.0', id: 1, result: { a: 1 } })
    expect(failure('x', { code: -32601, message: 'm' })).toEqual({ jsonrpc: '2.0', id: 'x', error: { code: -32601, message: 'm' } })
    expect(notification('notifications/tools/list_changed')).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })
    expect('params' in notification('n')).toBe(false)
    expect(notification('n', { a: 1 })).toEqual({ jsonrpc: '2.0', method: 'n', params: { a: 1 } })
  })
})
