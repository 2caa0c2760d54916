/**
 * The core's 2026-07-28 side with instances that share only a bus and a secret (what two servers
 * behind a load balancer share): a requestState expires and binds its caller, and a listen stream
 * on one instance hears the list changes and resource updates made on another, through the bus.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Exchange } from '../../src/core/call.ts'
import type { JsonRpcMessage, JsonRpcRequest } from '../../src/core/jsonrpc.ts'
import { McpServer } from '../../src/core/mcp-server.ts'
import { Registry } from '../../src/core/registry.ts'
import type { Principal } from '../../src/core/types.ts'
import { MemoryBus } from '../../src/stores/memory/memory-bus.ts'
import { MemorySessionStore } from '../../src/stores/memory/memory-session-store.ts'
import { MemoryStreams } from '../../src/stores/memory/memory-streams.ts'

const bus = new MemoryBus()
let clock = 1_000_000
const instances: { core: McpServer; registry: Registry; close(): Promise<void> }[] = []

async function instance(id: string) {
  const registry = new Registry()
  registry.tool({
    name: 'confirm',
    tier: 'public',
    handler: async (_args, ctx) => {
      const answer = await ctx.elicit({ message: 'Sure?', requestedSchema: { type: 'object', properties: {} } }, { key: 'sure' })
      return { content: [{ type: 'text', text: answer.action }] }
    },
  })
  registry.resource({ uri: 'test://r', name: 'r', read: (uri) => [{ uri, text: 'r' }] })
  const sessions = new MemorySessionStore({ ttlMs: 60_000 })
  const streams = new MemoryStreams({ retentionMs: 60_000 })
  const core = new McpServer({ info: { name: 'modern', version: '1' }, registry, sessions, streams, bus, instanceId: id, cursorSecret: 'x'.repeat(40), requestStateTtlMs: 60_000, now: () => clock })
  await core.start()
  const handle = { core, registry, close: async () => (await core.close(), await sessions.close(), await streams.close()) }
  instances.push(handle)
  return handle
}

let a: Awaited<ReturnType<typeof instance>>
let b: Awaited<ReturnType<typeof instance>>
beforeAll(async () => {
  a = await instance('a')
  b = await instance('b')
})
afterAll(async () => {
  for (const i of instances) await i.close()
})

const envelope = { protocolVersion: '2026-07-28', clientCapabilities: { elicitation: {} } }
const exchange = (principal: Principal): Exchange => ({ principal, transport: 'streamable-http', envelope, send: () => {} })
const alice: Principal = { id: 'alice', tier: 'user' }
const call = (params: Record<string, unknown>, id = 1): JsonRpcRequest => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'confirm', arguments: {}, ...params } })
const yes = { sure: { action: 'accept', content: {} } }

async function firstRound(): Promise<string> {
  const r = await a.core.handleModernRequest(call({}), exchange(alice))
  return (r as unknown as { result: { requestState: string } }).result.requestState
}

test('a state continues on another instance for the same caller before its deadline', async () => {
  const requestState = await firstRound()
  const r = await b.core.handleModernRequest(call({ requestState, inputResponses: yes }, 2), exchange(alice))
  expect(r).toMatchObject({ id: 2, result: { resultType: 'complete', content: [{ type: 'text', text: 'accept' }] } })
})

test('a state presented by another caller, or after its deadline, is refused', async () => {
  const requestState = await firstRound()
  const bob = await b.core.handleModernRequest(call({ requestState, inputResponses: yes }), exchange({ id: 'bob', tier: 'user' }))
  expect(bob).toMatchObject({ error: { code: -32602, data: { reason: 'invalid_request_state' }, message: expect.stringContaining('issued to another caller') } })
  clock += 60_000
  const late = await b.core.handleModernRequest(call({ requestState, inputResponses: yes }), exchange(alice))
  expect(late).toMatchObject({ error: { code: -32602, message: expect.stringContaining('it expired') } })
})

test('a listen stream on one instance hears list changes and resource updates made on another', async () => {
  const heard: JsonRpcMessage[] = []
  let ended = false
  const listen: JsonRpcRequest = { jsonrpc: '2.0', id: 'l', method: 'subscriptions/listen', params: { notifications: { toolsListChanged: true, resourceSubscriptions: ['test://r'] } } }
  const subscription = a.core.subscriptions.open(listen, { send: (m) => void heard.push(m), end: () => void (ended = true) })
  expect('close' in subscription).toBe(true)
  b.registry.tool({ name: 'added_on_b', handler: () => ({ content: [] }) })
  await b.core.resourceUpdated('test://r')
  const tag = { 'io.modelcontextprotocol/subscriptionId': 'l' }
  expect(heard).toEqual([
    { jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { _meta: tag, notifications: { toolsListChanged: true, resourceSubscriptions: ['test://r'] } } },
    { jsonrpc: '2.0', method: 'notifications/tools/list_changed', params: { _meta: tag } },
    { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'test://r', _meta: tag } },
  ])
  ;(subscription as { close(): void }).close()
  b.registry.removeTool('added_on_b')
  expect(heard).toHaveLength(3)
  expect(ended).toBe(false)
})
