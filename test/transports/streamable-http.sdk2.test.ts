/**
 * The official TypeScript SDK 2.x client (`@modelcontextprotocol/client`, ESM) in its default
 * legacy negotiation mode (initialize handshake), against a real server on a loopback port.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client'
import { LATEST } from '../_utils/http.ts'
import { expectPromptWithArguments, expectResourcesRead } from '../_utils/sdk2-checks.ts'
import { startTestServer } from '../_utils/server.ts'
import { until } from '../_utils/wait.ts'

let server: Awaited<ReturnType<typeof startTestServer>>
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.stop())

async function connect(capabilities: Record<string, unknown> = {}) {
  let getStreams = 0
  const client = new Client({ name: 'sdk2-test', version: '2.0.0' }, { capabilities, versionNegotiation: { mode: 'legacy' } })
  const transport = new StreamableHTTPClientTransport(new URL(server.mcpUrl), {
    // Counts accepted GETs, so tests know when the standalone stream is open.
    fetch: async (input, init) => {
      const res = await fetch(input, init)
      if ((init?.method ?? 'GET') === 'GET' && res.status === 200) getStreams++
      return res
    },
  })
  await client.connect(transport)
  return { client, transport, getStreams: () => getStreams }
}

test('SDK 2.x in legacy mode initializes a session on 2025-11-25 and sees the server capabilities', async () => {
  const { client, transport } = await connect()
  expect(client.getServerVersion()).toMatchObject({ name: 'mcprag' })
  expect(client.getServerCapabilities()).toMatchObject({ tools: { listChanged: true }, logging: {}, completions: {} })
  expect(transport.sessionId).toMatch(/^[\x21-\x7e]+$/)
  expect(transport.protocolVersion).toBe(LATEST)
  await client.close()
})

test('SDK 2.x lists tools and calls one with progress reported through onprogress', async () => {
  const { client } = await connect()
  const { tools } = await client.listTools()
  expect(tools.map((t) => t.name)).toEqual(server.registry.tools().map((t) => t.definition.name))
  const progress: number[] = []
  const result = await client.callTool({ name: 'test_tool_with_progress', arguments: {} }, { onprogress: (p) => void progress.push(p.progress) })
  expect(progress).toEqual([0, 50, 100])
  expect(result.content).toEqual([{ type: 'text', text: 'Progress reported: 0, 50, 100' }])
  expect(await client.callTool({ name: 'echo', arguments: { text: 'v2' } })).toMatchObject({ content: [{ type: 'text', text: 'v2' }] })
  await client.close()
})

test('SDK 2.x reads text, binary and templated resources, and an unknown one is recognised as resource-not-found', async () => {
  const { client } = await connect()
  await expectResourcesRead(client)
  await client.close()
})

test('SDK 2.x gets a prompt with arguments', async () => {
  const { client } = await connect()
  await expectPromptWithArguments(client)
  await client.close()
})

test('SDK 2.x completes an elicitation round trip through its request handler', async () => {
  const { client } = await connect({ elicitation: { form: {} } })
  const messages: string[] = []
  client.setRequestHandler('elicitation/create', async (request) => {
    messages.push(request.params.message)
    return { action: 'accept', content: { username: 'grace', email: 'grace@example.com' } }
  })
  const result = await client.callTool({ name: 'test_elicitation', arguments: { message: 'Your details?' } })
  expect(messages).toEqual(['Your details?'])
  expect(result.content).toEqual([
    { type: 'text', text: 'User response: action=accept, content={"username":"grace","email":"grace@example.com"}' },
  ])
  await client.close()
})

test('SDK 2.x receives log notifications after logging/setLevel and can end its session', async () => {
  const { client, transport } = await connect()
  const logs: unknown[] = []
  client.setNotificationHandler('notifications/message', (n) => void logs.push(n.params.data))
  await client.setLoggingLevel('info')
  await client.callTool({ name: 'test_tool_with_logging', arguments: {} })
  await until(() => logs.length === 3, 2000, 'three log notifications')
  expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed'])
  const sessionId = transport.sessionId!
  await transport.terminateSession()
  const after = await fetch(server.mcpUrl, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } })
  expect(after.status).toBe(404)
  await client.close()
})

test('SDK 2.x completes a sampling round trip through its request handler', async () => {
  const { client } = await connect({ sampling: {} })
  client.setRequestHandler('sampling/createMessage', async (request) => {
    const content = request.params.messages[0]?.content as { text?: string }
    return { model: 'v2-model', role: 'assistant', content: { type: 'text', text: `v2 says ${content.text}` } }
  })
  const result = await client.callTool({ name: 'test_sampling', arguments: { prompt: 'ping' } })
  expect(result.content).toEqual([{ type: 'text', text: 'LLM response: v2 says ping' }])
  await client.close()
})

test('SDK 2.x hears tools/list_changed on its GET stream when a tool is registered', async () => {
  const { client, getStreams } = await connect()
  let changed = 0
  client.setNotificationHandler('notifications/tools/list_changed', () => void changed++)
  await until(() => getStreams() === 1, 2000, 'the SDK to open its GET stream')
  server.registry.tool({ name: 'v2_registered_later', handler: () => ({ content: [] }) })
  try {
    await until(() => changed === 1, 2000, 'notifications/tools/list_changed')
  } finally {
    server.registry.removeTool('v2_registered_later')
  }
  await client.close()
})
