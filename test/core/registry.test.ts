/**
 * The registry: name and schema checks at registration, lookups, and change notifications.
 */
import { expect, test } from 'bun:test'
import { Registry, type ListKind } from '../../src/core/registry.ts'

const noop = () => ({ content: [] })

test('tool names of 1-128 characters from A-Z a-z 0-9 _ . - are accepted', () => {
  const r = new Registry()
  for (const name of ['a', 'get_weather', 'ns.tool-v2', 'A9', 'x'.repeat(128)]) r.tool({ name, handler: noop })
  expect(r.tools().map((t) => t.definition.name)).toEqual(['a', 'get_weather', 'ns.tool-v2', 'A9', 'x'.repeat(128)])
})

test('other tool names are refused with a message giving the rule', () => {
  const r = new Registry()
  for (const name of ['', 'x'.repeat(129), 'has space', 'slash/name', 'émoji', 'semi;colon', 'new\nline'])
    expect(() => r.tool({ name, handler: noop })).toThrow(`Tool name "${name}" is invalid: use 1-128 characters of A-Z a-z 0-9 _ . -`)
  expect(r.tools()).toEqual([])
})

test('names are case-sensitive, and a duplicate is refused', () => {
  const r = new Registry()
  r.tool({ name: 'Echo', handler: noop })
  r.tool({ name: 'echo', handler: noop })
  expect(() => r.tool({ name: 'echo', handler: noop })).toThrow('Tool "echo" is already registered')
  expect(() => r.prompt({ name: 'p', get: () => ({ messages: [] }) }).prompt({ name: 'p', get: () => ({ messages: [] }) })).toThrow('Prompt "p" is already registered')
  const read = () => []
  expect(() => r.resource({ uri: 'x://1', name: 'one', read }).resource({ uri: 'x://1', name: 'again', read })).toThrow('Resource "x://1" is already registered')
})

test('an inputSchema that is not an object schema, or does not compile, fails at registration', () => {
  const r = new Registry()
  expect(() => r.tool({ name: 'arr', inputSchema: { type: 'array' }, handler: noop })).toThrow('inputSchema must have type "object"')
  expect(() => r.tool({ name: 'broken', inputSchema: { type: 'object', properties: { a: { type: 'no-such-type' } } }, handler: noop })).toThrow()
  expect(r.getTool('broken')).toBeUndefined()
})

test('a tool without inputSchema gets an empty closed object schema and validates against it', () => {
  const r = new Registry()
  r.tool({ name: 't', handler: noop })
  const t = r.getTool('t')!
  expect(t.descriptor).toEqual({ name: 't', inputSchema: { type: 'object', additionalProperties: false } })
  expect(t.validateInput({})).toBeUndefined()
  expect(t.validateInput({ x: 1 })).toEqual([{ path: 'x', message: 'unknown field "x" is not allowed' }])
})

test('the tools/list descriptor leaves out fields that were not given', () => {
  const r = new Registry()
  r.tool({ name: 't', title: 'T', annotations: { readOnlyHint: true }, handler: noop, tier: 'admin' })
  expect(r.getTool('t')!.descriptor).toEqual({ name: 't', title: 'T', inputSchema: { type: 'object', additionalProperties: false }, annotations: { readOnlyHint: true } })
  expect(r.getTool('t')!.tier).toBe('admin')
})

test('every registration and removal tells listeners which list changed; removing nothing tells nobody', () => {
  const r = new Registry()
  const changes: ListKind[] = []
  const stop = r.onChange((k) => changes.push(k))
  r.tool({ name: 't', handler: noop })
  r.resource({ uri: 'x://1', name: 'one', read: () => [] })
  r.resourceTemplate({ uriTemplate: 'x://{id}', name: 'tpl', read: () => [] })
  r.prompt({ name: 'p', get: () => ({ messages: [] }) })
  expect(r.removeTool('t')).toBe(true)
  expect(r.removeTool('t')).toBe(false)
  expect(r.removePrompt('nope')).toBe(false)
  stop()
  r.removeResource('x://1')
  expect(changes).toEqual(['tools', 'resources', 'resources', 'prompts', 'tools'])
})

test('matchTemplate finds the first template matching a URI, with its variables', () => {
  const r = new Registry()
  r.resourceTemplate({ uriTemplate: 'x://items/{id}', name: 'item', read: () => [] })
  r.resourceTemplate({ uriTemplate: 'x://{+rest}', name: 'any', read: () => [] })
  expect(r.matchTemplate('x://items/42')).toMatchObject({ template: { definition: { name: 'item' } }, vars: { id: '42' } })
  expect(r.matchTemplate('x://other/thing')).toMatchObject({ template: { definition: { name: 'any' } }, vars: { rest: 'other/thing' } })
  expect(r.matchTemplate('y://items/42')).toBeUndefined()
})
