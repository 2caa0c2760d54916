/**
 * The official TypeScript SDK 2.x client (`@modelcontextprotocol/client`) in its modern mode
 * (`versionNegotiation` pinned to 2026-07-28, or `auto`), against a real server on a loopback
 * port: no initialize and no session, `_meta` on every request, server-to-client input through
 * `input_required` rounds that the client fulfils with the same request handlers a 2025 session
 * uses, and change notifications on `subscriptions/listen`.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { expectPromptWithArguments, expectResourcesRead } from '../_utils/sdk2-checks.ts'
import { startTestServer } from '../_utils/server.ts'
import { until } from '../_utils/wait.ts'

let server: Awaited<ReturnType<typeof startTestServer>>
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.stop())

type Mode = { pin: string } | 'auto'

/** A modern client; `posts` records each POST's Mcp-Method header, `sessions` any Mcp-Session-Id seen. */
async function connect(capabilities: Record<string, unknown> = {}, mode: Mode = { pin: '2026-07-28' }) {
  const posts: string[] = []
  const sessions: string[] = []
  const client = new Client({ name: 'sdk2-modern-test', version: '2.0.0' }, { capabilities, versionNegotiation: { mode } })
  const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), {
    fetch: async (input, init) => {
      posts.push(new Headers(init?.headers).get('mcp-method') ?? '(none)')
      const res = await fetch(input, init)
      const session = res.headers.get('mcp-session-id')
      if (session) sessions.push(session)
      return res
    },
  })
  await client.connect(transport)
  return { client, posts, sessions }
}

test('pinned to 2026-07-28 the client discovers the server and stays sessionless', async () => {
  const { client, posts, sessions } = await connect()
  expect(client.getProtocolEra()).toBe('modern')
  expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28')
  expect(client.getServerVersion()).toMatchObject({ name: 'mcprag' })
  expect(client.getServerCapabilities()).toMatchObject({ tools: { listChanged: true }, resources: { subscribe: true }, completions: {} })
  expect(client.getDiscoverResult()).toMatchObject({ supportedVersions: ['2026-07-28'] })
  await client.listTools()
  expect(posts).toEqual(['server/discover', 'tools/list'])
  expect(sessions).toEqual([])
  await client.close()
})

test("in 'auto' mode the client probes with server/discover and chooses the modern era", async () => {
  const { client, posts } = await connect({}, 'auto')
  expect(client.getProtocolEra()).toBe('modern')
  expect(posts[0]).toBe('server/discover')
  expect(posts).not.toContain('initialize')
  await client.close()
})

test('tools are listed and called, with progress reported through onprogress', async () => {
  const { client } = await connect()
  const { tools } = await client.listTools()
  expect(tools.map((t) => t.name)).toEqual(server.registry.tools().map((t) => t.definition.name))
  const progress: number[] = []
  const result = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, { onprogress: (p) => void progress.push(p.progress) })
  expect(progress).toEqual([0, 50, 100])
  expect(result.content).toEqual([{ type: 'text', text: 'Progress reported: 0, 50, 100' }])
  await client.close()
})

test('a tool that samples completes through the sampling handler, in an input_required round', async () => {
  const { client, posts } = await connect({ sampling: {} })
  client.setRequestHandler('sampling/createMessage', async (request) => {
    const content = request.params.messages[0]?.content as { text?: string }
    return { model: 'v2-model', role: 'assistant', content: { type: 'text', text: `modern says ${content.text}` } }
  })
  const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'ping' } })
  expect(result.content).toEqual([{ type: 'text', text: 'LLM response: modern says ping' }])
  // The first call ended input_required; the client retried with the answer.
  expect(posts.filter((m) => m === 'tools/call')).toHaveLength(2)
  await client.close()
})

test('a tool that elicits completes through the elicitation handler, and a second question takes a second round', async () => {
  const { client, posts } = await connect({ elicitation: { form: {} } })
  const asked: string[] = []
  client.setRequestHandler('elicitation/create', async (request) => {
    asked.push(request.params.message)
    return { action: 'accept', content: { username: 'grace', email: 'grace@example.com', name: 'Grace', color: 'green' } }
  })
  const result = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Your details?' } })
  expect(result.content).toEqual([{ type: 'text', text: 'User response: action=accept, content={"username":"grace","email":"grace@example.com","name":"Grace","color":"green"}' }])
  const twice = await client.callTool({ name: 'test_input_required_result_multi_round', arguments: {} })
  expect(twice.content).toEqual([{ type: 'text', text: 'Grace likes green' }])
  expect(asked).toEqual(['Your details?', 'Step 1: What is your name?', 'Step 2: What is your favorite color?'])
  expect(posts.filter((m) => m === 'tools/call')).toHaveLength(2 + 3)
  await client.close()
})

test('a tool asking for a name, a sample and the roots at once gets them all in one round', async () => {
  const { client, posts } = await connect({ sampling: {}, elicitation: {}, roots: {} })
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { name: 'Ada' } }))
  client.setRequestHandler('sampling/createMessage', async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'Hello' } }))
  client.setRequestHandler('roots/list', async () => ({ roots: [{ uri: 'file:///a' }, { uri: 'file:///b' }] }))
  const result = await client.callTool({ name: 'test_input_required_result_multiple_inputs', arguments: {} })
  expect(result.content).toEqual([{ type: 'text', text: 'Hello Ada (2 root(s))' }])
  expect(posts.filter((m) => m === 'tools/call')).toHaveLength(2)
  await client.close()
})

test('a prompt that elicits before it answers completes too (input_required is not only for tools)', async () => {
  const { client } = await connect({ elicitation: {} })
  client.setRequestHandler('elicitation/create', async () => ({ action: 'accept', content: { context: 'the repository' } }))
  const prompt = await client.getPrompt({ name: 'test_input_required_result_prompt' })
  expect(prompt.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Use this context: the repository' } }])
  await client.close()
})

test('resources are read, and an unknown one is recognised as resource-not-found (-32602 with the uri)', async () => {
  const { client } = await connect()
  await expectResourcesRead(client)
  await client.close()
})

test('prompts with arguments and completions work without a session', async () => {
  const { client } = await connect()
  await expectPromptWithArguments(client)
  const completion = await client.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'par' } })
  expect(completion.completion.values).toEqual(['paris', 'park', 'party'])
  await client.close()
})

test('listen() hears tools/list_changed when a tool is registered, and only what it asked for', async () => {
  const { client } = await connect()
  let tools = 0
  let prompts = 0
  client.setNotificationHandler('notifications/tools/list_changed', () => void tools++)
  client.setNotificationHandler('notifications/prompts/list_changed', () => void prompts++)
  const subscription = await client.listen({ toolsListChanged: true })
  expect(subscription.honoredFilter).toEqual({ toolsListChanged: true })
  server.registry.prompt({ name: 'modern_prompt_registered_later', get: () => ({ messages: [] }) })
  server.registry.tool({ name: 'modern_registered_later', handler: () => ({ content: [] }) })
  try {
    await until(() => tools === 1, 2000, 'notifications/tools/list_changed on the listen stream')
  } finally {
    server.registry.removeTool('modern_registered_later')
    server.registry.removePrompt('modern_prompt_registered_later')
  }
  await until(() => tools === 2, 2000, 'the removal announced too')
  expect(prompts).toBe(0)
  await subscription.close()
  expect(await subscription.closed).toBe('local')
  await until(() => server.core.subscriptions.size === 0, 2000, 'the server to drop the closed subscription')
  await client.close()
})
