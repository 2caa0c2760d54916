/**
 * The official TypeScript SDK 1.x client (`Client` + `StreamableHTTPClientTransport`) against a
 * real server on a loopback port: every feature a client uses, end to end.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type ClientCapabilities,
  type CreateMessageRequest,
  type ElicitRequest,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js'
import { PNG_BASE64 } from '../../src/fixtures/conformance.ts'
import { LATEST, openSession, post, SseReader } from '../_utils/http.ts'
import { startTestServer } from '../_utils/server.ts'
import { registerTestTools, SLOW_TOOL, type TestTools } from '../_utils/tools.ts'
import { sleep, until } from '../_utils/wait.ts'

type TestServer = Awaited<ReturnType<typeof startTestServer>>

interface Connected {
  client: Client
  transport: StreamableHTTPClientTransport
  /** GET streams the server accepted for this client. */
  getStreams: () => number
  logs: LoggingMessageNotification['params'][]
  updated: string[]
  listChanged: () => number
}

async function connect(url: string, capabilities: ClientCapabilities = {}): Promise<Connected> {
  let getStreams = 0
  let listChanged = 0
  const logs: LoggingMessageNotification['params'][] = []
  const updated: string[] = []
  const client = new Client({ name: 'sdk1-test', version: '1.0.0' }, { capabilities })
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params))
  client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri))
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++)
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    // Counts accepted GETs, so tests know when the standalone stream is open.
    fetch: async (input, init) => {
      const res = await fetch(input, init)
      if ((init?.method ?? 'GET') === 'GET' && res.status === 200) getStreams++
      return res
    },
  })
  await client.connect(transport)
  return { client, transport, getStreams: () => getStreams, logs, updated, listChanged: () => listChanged }
}

async function rpcError(promise: Promise<unknown>): Promise<McpError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!(err instanceof McpError)) throw new Error(`expected an McpError, got ${String(err)}`)
  return err
}

describe('with conformance fixtures', () => {
  let server: TestServer
  let tools: TestTools
  beforeAll(async () => {
    server = await startTestServer()
    tools = registerTestTools(server.registry)
  })
  afterAll(() => server.stop())

  test('initialize negotiates 2025-11-25 and reports server info, capabilities and instructions', async () => {
    const { client, transport } = await connect(server.mcpUrl)
    expect(client.getServerVersion()).toMatchObject({ name: 'mcprag', version: expect.any(String) })
    expect(client.getServerCapabilities()).toMatchObject({
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    })
    expect(client.getInstructions()).toBeString()
    expect(transport.protocolVersion).toBe(LATEST)
    expect(transport.sessionId).toMatch(/^[\x21-\x7e]+$/)
    await client.close()
  })

  test('tools/list describes tools with schemas and annotations, and tools/call returns their content', async () => {
    const { client } = await connect(server.mcpUrl)
    const { tools: listed } = await client.listTools()
    const echo = listed.find((t) => t.name === 'echo')
    expect(echo?.inputSchema).toMatchObject({ type: 'object', required: ['text'] })
    expect(echo?.annotations).toEqual({ readOnlyHint: true, idempotentHint: true, openWorldHint: false })
    expect(listed.map((t) => t.name)).toEqual(server.registry.tools().map((t) => t.definition.name))
    expect(await client.callTool({ name: 'echo', arguments: { text: 'hello there' } })).toEqual({
      content: [{ type: 'text', text: 'hello there' }],
    })
    const image = await client.callTool({ name: 'test_image_content', arguments: {} })
    expect(image.content).toEqual([{ type: 'image', data: PNG_BASE64, mimeType: 'image/png' }])
    await client.close()
  })

  test('a tool reporting progress reaches the onprogress callback with increasing values before the result', async () => {
    const { client } = await connect(server.mcpUrl)
    const progress: { progress: number; total?: number; message?: string }[] = []
    let resultArrived = false
    const result = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, undefined, {
      onprogress: (p) => {
        expect(resultArrived).toBe(false)
        progress.push(p)
      },
    })
    resultArrived = true
    expect(progress).toEqual([
      { progress: 0, total: 100, message: 'Completed step 0 of 100' },
      { progress: 50, total: 100, message: 'Completed step 50 of 100' },
      { progress: 100, total: 100, message: 'Completed step 100 of 100' },
    ])
    expect(result.content).toEqual([{ type: 'text', text: 'Progress reported: 0, 50, 100' }])
    await client.close()
  })

  test('an unknown tool is a JSON-RPC -32602 error and bad arguments are an isError result naming the field', async () => {
    const { client } = await connect(server.mcpUrl)
    const err = await rpcError(client.callTool({ name: 'no_such_tool', arguments: {} }))
    expect(err.code).toBe(-32602)
    expect(err.message).toContain('no_such_tool')
    const bad = await client.callTool({ name: 'echo', arguments: { text: 42 } })
    expect(bad.isError).toBe(true)
    expect((bad.content as { text: string }[])[0]?.text).toContain('"text" must be string')
    const missing = await client.callTool({ name: 'echo', arguments: {} })
    expect(missing.isError).toBe(true)
    expect((missing.content as { text: string }[])[0]?.text).toContain('missing required field "text"')
    await client.close()
  })

  test('resources read as text, as base64 binary and through a URI template', async () => {
    const { client } = await connect(server.mcpUrl)
    const { resources } = await client.listResources()
    expect(resources.map((r) => r.uri)).toEqual(['test://static-text', 'test://static-binary', 'test://watched-resource'])
    expect(await client.readResource({ uri: 'test://static-text' })).toEqual({
      contents: [{ uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' }],
    })
    expect(await client.readResource({ uri: 'test://static-binary' })).toEqual({
      contents: [{ uri: 'test://static-binary', mimeType: 'image/png', blob: PNG_BASE64 }],
    })
    const { resourceTemplates } = await client.listResourceTemplates()
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['test://template/{id}/data', 'mcprag://{repo}/{+path}'])
    const templated = await client.readResource({ uri: 'test://template/4711/data' })
    expect(JSON.parse((templated.contents[0] as { text: string }).text)).toEqual({ id: '4711', templateTest: true, data: 'Data for ID: 4711' })
    const missing = await rpcError(client.readResource({ uri: 'test://nowhere' }))
    expect(missing.code).toBe(-32002)
    expect(missing.data).toEqual({ uri: 'test://nowhere' })
    await client.close()
  })

  test('prompts/get fills in arguments, and a missing required argument is -32602 naming it', async () => {
    const { client } = await connect(server.mcpUrl)
    const { prompts } = await client.listPrompts()
    expect(prompts.find((p) => p.name === 'test_prompt_with_arguments')?.arguments?.map((a) => a.name)).toEqual(['arg1', 'arg2'])
    expect(await client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'alpha', arg2: 'beta' } })).toEqual({
      messages: [{ role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='alpha', arg2='beta'" } }],
    })
    const err = await rpcError(client.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'alpha' } }))
    expect(err.code).toBe(-32602)
    expect(err.message).toContain('arg2')
    await client.close()
  })

  test('completion/complete offers values for prompt arguments and template variables', async () => {
    const { client } = await connect(server.mcpUrl)
    const prompt = await client.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'par' } })
    expect(prompt.completion).toEqual({ values: ['paris', 'park', 'party'], total: 3, hasMore: false })
    const template = await client.complete({ ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '4' } })
    expect(template.completion.values).toEqual(['456'])
    await client.close()
  })

  test('logging/setLevel filters the notifications/message a tool sends while it runs', async () => {
    const { client, logs } = await connect(server.mcpUrl)
    await client.setLoggingLevel('warning')
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} })
    expect(logs).toEqual([])
    await client.setLoggingLevel('debug')
    await client.callTool({ name: 'test_tool_with_logging', arguments: {} })
    expect(logs).toEqual([
      { level: 'info', data: 'Tool execution started' },
      { level: 'info', data: 'Tool processing data' },
      { level: 'info', data: 'Tool execution completed' },
    ])
    await client.close()
  })

  test('sampling round trip: the server asks the client to sample and uses its answer', async () => {
    const { client } = await connect(server.mcpUrl, { sampling: {} })
    const asked: CreateMessageRequest['params'][] = []
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      asked.push(req.params)
      const content = req.params.messages[0]?.content as { text?: string }
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: `sampled(${content.text})` } }
    })
    const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'What is 2+2?' } })
    expect(asked).toEqual([{ messages: [{ role: 'user', content: { type: 'text', text: 'What is 2+2?' } }], maxTokens: 100 }])
    expect(result.content).toEqual([{ type: 'text', text: 'LLM response: sampled(What is 2+2?)' }])
    await client.close()
  })

  test('a client without the sampling capability gets an isError result instead of a sampling request', async () => {
    const { client } = await connect(server.mcpUrl)
    const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'hi' } })
    expect(result.isError).toBe(true)
    expect((result.content as { text: string }[])[0]?.text).toContain('sampling')
    await client.close()
  })

  test('elicitation round trip: accepted content and a decline both reach the tool', async () => {
    const { client } = await connect(server.mcpUrl, { elicitation: { form: {} } })
    const asked: ElicitRequest['params'][] = []
    let action: 'accept' | 'decline' = 'accept'
    client.setRequestHandler(ElicitRequestSchema, async (req) => {
      asked.push(req.params)
      return action === 'accept' ? { action, content: { username: 'ada', email: 'ada@example.com' } } : { action }
    })
    const accepted = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } })
    expect(accepted.content).toEqual([
      { type: 'text', text: 'User response: action=accept, content={"username":"ada","email":"ada@example.com"}' },
    ])
    expect(asked[0]).toMatchObject({ mode: 'form', message: 'Who are you?', requestedSchema: { type: 'object', required: ['username', 'email'] } })
    action = 'decline'
    const declined = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Again?' } })
    expect(declined.content).toEqual([{ type: 'text', text: 'User response: action=decline, content={}' }])
    await client.close()
  })

  test('the GET stream delivers tools/list_changed when a tool is registered while connected', async () => {
    const { client, getStreams, listChanged } = await connect(server.mcpUrl)
    await until(() => getStreams() === 1, 2000, 'the SDK to open its GET stream')
    server.registry.tool({ name: 'registered_later', description: 'Added mid-session', handler: () => ({ content: [] }) })
    try {
      await until(() => listChanged() === 1, 2000, 'notifications/tools/list_changed')
      const { tools: listed } = await client.listTools()
      expect(listed.map((t) => t.name)).toContain('registered_later')
    } finally {
      server.registry.removeTool('registered_later')
    }
    await until(() => listChanged() === 2, 2000, 'list_changed for the removal')
    await client.close()
  })

  test('resources/subscribe brings notifications/resources/updated; after unsubscribe none come', async () => {
    const { client, getStreams, updated, listChanged } = await connect(server.mcpUrl)
    await until(() => getStreams() === 1, 2000, 'the SDK to open its GET stream')
    await client.subscribeResource({ uri: 'test://static-text' })
    await server.core.resourceUpdated('test://static-text')
    await server.core.resourceUpdated('test://static-binary')
    await until(() => updated.length === 1, 2000, 'notifications/resources/updated')
    expect(updated).toEqual(['test://static-text'])

    await client.unsubscribeResource({ uri: 'test://static-text' })
    await server.core.resourceUpdated('test://static-text')
    // A later message on the same stream proves the update was not merely slow.
    server.registry.tool({ name: 'echo_probe', handler: () => ({ content: [] }) })
    await until(() => listChanged() >= 1, 2000, 'list_changed after the unsubscribed update')
    expect(updated).toEqual(['test://static-text'])
    server.registry.removeTool('echo_probe')
    await client.close()
  })

  test('aborting a call sends notifications/cancelled: the server aborts the work and the session keeps serving', async () => {
    const { client } = await connect(server.mcpUrl)
    const before = tools.slowCalls.length
    const abort = new AbortController()
    const call = client.callTool({ name: SLOW_TOOL, arguments: {} }, undefined, { signal: abort.signal })
    await until(() => tools.slowCalls.length === before + 1, 2000, 'the slow tool to start')
    abort.abort('the user gave up')
    await expect(call).rejects.toThrow('the user gave up')
    await until(() => tools.slowCalls[before]!.finished, 2000, 'the server to see the cancellation')
    expect(tools.slowCalls[before]!.aborted).toBe(true)
    expect(await client.ping()).toEqual({})
    await client.close()
  })

  test('terminateSession sends DELETE; the same session id then gets 404 on POST, GET and DELETE', async () => {
    const { client, transport } = await connect(server.mcpUrl)
    const sessionId = transport.sessionId!
    await transport.terminateSession()
    expect(transport.sessionId).toBeUndefined()
    const headers = { 'mcp-session-id': sessionId, 'mcp-protocol-version': LATEST }
    const ping = await post(server.mcpUrl, { jsonrpc: '2.0', id: 1, method: 'ping' }, headers)
    expect(ping.status).toBe(404)
    expect(((await ping.json()) as { error: { code: number } }).error.code).toBe(-32001)
    const get = await fetch(server.mcpUrl, { headers: { accept: 'text/event-stream', ...headers } })
    expect(get.status).toBe(404)
    const again = await fetch(server.mcpUrl, { method: 'DELETE', headers })
    expect(again.status).toBe(404)
    await client.close()
  })
})

describe('with MCPRAG_PAGE_SIZE=2', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ MCPRAG_PAGE_SIZE: '2' })
  })
  afterAll(() => server.stop())

  test('tools/list, resources/list and prompts/list are paged by nextCursor and the pages add up to the registry', async () => {
    const { client } = await connect(server.mcpUrl)
    const toolNames: string[] = []
    let cursor: string | undefined
    let pages = 0
    do {
      const page = await client.listTools(cursor ? { cursor } : {})
      expect(page.tools.length).toBeLessThanOrEqual(2)
      toolNames.push(...page.tools.map((t) => t.name))
      cursor = page.nextCursor
      pages++
    } while (cursor)
    const registered = server.registry.tools().map((t) => t.definition.name)
    expect(toolNames).toEqual(registered)
    expect(pages).toBe(Math.ceil(registered.length / 2))

    const promptNames: string[] = []
    cursor = undefined
    do {
      const page = await client.listPrompts(cursor ? { cursor } : {})
      expect(page.prompts.length).toBeLessThanOrEqual(2)
      promptNames.push(...page.prompts.map((p) => p.name))
      cursor = page.nextCursor
    } while (cursor)
    expect(promptNames).toEqual(server.registry.prompts().map((p) => p.name))

    const resources = await client.listResources()
    expect(resources.resources.length).toBe(2)
    expect((await client.listResources({ cursor: resources.nextCursor! })).nextCursor).toBeUndefined()
    await client.close()
  })

  test('a tampered, forged or foreign cursor is -32602 saying to pass nextCursor back unchanged', async () => {
    const { client } = await connect(server.mcpUrl)
    const { nextCursor } = await client.listTools()
    const [body, mac] = nextCursor!.split('.')
    const flipped = `${body}.${mac!.slice(0, -1)}${mac!.endsWith('A') ? 'B' : 'A'}`
    const forgedBody = Buffer.from(JSON.stringify({ l: 'tools', o: 0 })).toString('base64url')
    for (const cursor of [flipped, `${forgedBody}.${mac}`, 'garbage', '']) {
      const err = await rpcError(client.listTools({ cursor }))
      expect({ cursor, code: err.code }).toEqual({ cursor, code: -32602 })
      expect(err.message).toContain('Invalid cursor')
    }
    // A valid tools cursor is no cursor for another list.
    const foreign = await rpcError(client.listPrompts({ cursor: nextCursor! }))
    expect(foreign.code).toBe(-32602)
    await client.close()
  })
})

describe('with MCPRAG_KEEPALIVE_MS=3000', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startTestServer({ MCPRAG_KEEPALIVE_MS: '3000' })
  })
  afterAll(() => server.stop())

  test('a GET stream idle past Bun\'s 10 s idle timeout stays open, sends keep-alives and still delivers an event', async () => {
    const sdk = await connect(server.mcpUrl)
    await until(() => sdk.getStreams() === 1, 2000, 'the SDK to open its GET stream')
    // A raw GET on a second session, to see the keep-alive comments themselves.
    const { headers } = await openSession(server.mcpUrl)
    const get = await fetch(server.mcpUrl, { headers: { accept: 'text/event-stream', ...headers } })
    expect(get.status).toBe(200)
    const reader = new SseReader(get)
    expect((await reader.next(2000))?.data).toBe('')

    await sleep(12_000)
    expect(reader.ended).toBe(false)
    expect(reader.comments.length).toBeGreaterThanOrEqual(3)
    expect(new Set(reader.comments)).toEqual(new Set(['keepalive']))
    server.registry.tool({ name: 'after_idle', handler: () => ({ content: [] }) })
    expect((await reader.next(2000))?.json).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })
    await until(() => sdk.listChanged() === 1, 2000, 'list_changed on the idle SDK GET stream')
    // The SDK did not have to reconnect: its one stream survived.
    expect(sdk.getStreams()).toBe(1)
    await reader.cancel()
    await sdk.client.close()
  }, 30_000)
})

describe('with MCPRAG_HTTP_IDLE_TIMEOUT_S=6 and no keep-alive within the wait', () => {
  let server: TestServer
  beforeAll(async () => {
    // Keep-alives every 60 s: nothing is written during the wait, so only disabling the idle
    // timeout for streams can keep them open.
    server = await startTestServer({ MCPRAG_HTTP_IDLE_TIMEOUT_S: '6', MCPRAG_KEEPALIVE_MS: '60000' })
  })
  afterAll(() => server.stop())

  test('a silent GET stream outlives the idle timeout, and a call slower than it is answered as a stream', async () => {
    server.registry.tool({
      name: 'slower_than_idle',
      description: 'Sleeps past the HTTP idle timeout, then answers',
      handler: async () => {
        await sleep(8_000)
        return { content: [{ type: 'text', text: 'done after 8 s' }] }
      },
    })
    const { headers } = await openSession(server.mcpUrl)
    const get = await fetch(server.mcpUrl, { headers: { accept: 'text/event-stream', ...headers } })
    expect(get.status).toBe(200)
    const reader = new SseReader(get)
    expect((await reader.next(2000))?.data).toBe('')
    const slow = post(server.mcpUrl, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'slower_than_idle', arguments: {} } }, headers)

    await sleep(9_000)
    expect(reader.ended).toBe(false)
    expect(reader.comments).toEqual([])
    server.registry.tool({ name: 'after_silence', handler: () => ({ content: [] }) })
    expect((await reader.next(2000))?.json).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })

    const answer = await slow
    expect(answer.status).toBe(200)
    expect(answer.headers.get('content-type')).toBe('text/event-stream')
    const body = await answer.text()
    expect(body).toContain('"id":7')
    expect(body).toContain('done after 8 s')
    await reader.cancel()
  }, 30_000)
})
