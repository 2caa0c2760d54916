/**
 * The transport contract: one scenario list that every transport must pass the same way, driven
 * by the official SDK 1.x client over a real server on a loopback port. Each transport's test file
 * calls `runTransportContract` with a way to build the SDK's client transport for it, once against
 * a server without authentication and once with it on (`{ auth: true }`), where the client carries
 * a real bearer token the way that transport can (headers, or a WebSocket ticket).
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListToolsResultSchema,
  LoggingMessageNotificationSchema,
  McpError,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { registerContractTools, WAIT_TOOL, WHOAMI_TOOL, type ContractTools } from '../_utils/contract-tools.ts'
import { hasRedis } from '../_utils/redis.ts'
import { startTestServer } from '../_utils/server.ts'

export interface ContractTarget {
  /**
   * The SDK client transport for a server whose base URL (`http://127.0.0.1:PORT`) is given;
   * with authentication on, `token` is a bearer token the transport must present.
   */
  connect(baseUrl: string, token?: string): Transport | Promise<Transport>
  /** How a client ends its session; closing the client is the default. */
  shutdown?(client: Client, transport: Transport): Promise<void>
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Poll `predicate` every 20 ms, running `nudge` before each look, until it holds or `ms` pass. */
async function eventually(predicate: () => boolean | Promise<boolean>, what: string, nudge?: () => unknown, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  for (;;) {
    await nudge?.()
    if (await predicate()) return
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(20)
  }
}

const textOf = (result: object) => ((result as { content?: { text?: string }[] }).content?.[0]?.text ?? '')

async function rpcError(p: Promise<unknown>): Promise<McpError> {
  try {
    await p
  } catch (err) {
    if (err instanceof McpError) return err
    throw err
  }
  throw new Error('expected a JSON-RPC error, got a result')
}

export function runTransportContract(name: string, target: ContractTarget, opts: { auth?: boolean; redis?: boolean } = {}): void {
  describe.skipIf(opts.redis === true && !hasRedis)(`${name} transport contract${opts.auth ? ' (authentication on, with a token)' : ''}${opts.redis ? ' (state in Redis)' : ''}`, () => {
    let server: Awaited<ReturnType<typeof startTestServer>>
    /** A user-tier bearer token, minted the way `bun run mcprag user token` does (auth on only). */
    let token: string | undefined
    let tools: ContractTools
    const open: { client: Client; transport: Transport }[] = []
    const wires = new WeakMap<Client, Record<string, unknown>[]>()
    const wireOf = (client: Client) => wires.get(client)!

    /** A connected client that can sample and elicit (answers are scripted by the test). */
    async function connect(): Promise<{ client: Client; transport: Transport }> {
      const client = new Client({ name: `contract-${name}`, version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } })
      client.setRequestHandler(CreateMessageRequestSchema, async (request) => ({
        model: 'contract-model',
        role: 'assistant',
        content: { type: 'text', text: `sampled: ${JSON.stringify(request.params.messages[0]?.content)}` },
      }))
      client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { username: 'ada', email: 'ada@example.com' } }))
      const transport = await target.connect(server.url, token)
      await client.connect(transport)
      // Tap the transport to keep what arrived on the wire, in order (the client's handlers are
      // asynchronous and cannot say that).
      const wire: Record<string, unknown>[] = []
      const deliver = transport.onmessage!
      transport.onmessage = (message, extra) => {
        wire.push(message as Record<string, unknown>)
        deliver(message, extra)
      }
      wires.set(client, wire)
      const entry = { client, transport }
      open.push(entry)
      return entry
    }

    let shared: Client
    beforeAll(async () => {
      server = await startTestServer(opts.auth ? { MCPRAG_AUTH: 'on' } : {}, { redis: opts.redis })
      if (server.auth) {
        const user = await server.auth.stores.users.create({ email: `contract-${name.replaceAll(' ', '-').toLowerCase()}@example.com`, tier: 'user', now: Date.now() })
        token = (await server.auth.sessions.start(user)).token
      }
      tools = registerContractTools(server.registry)
      shared = (await connect()).client
    })
    afterAll(async () => {
      for (const { client } of open) await client.close().catch(() => {})
      await server.stop()
    })

    test('initialize negotiates the latest version and reports the server and its capabilities', async () => {
      expect(shared.getServerVersion()).toMatchObject({ name: 'mcprag' })
      expect(shared.getServerCapabilities()).toMatchObject({
        tools: { listChanged: true },
        resources: { subscribe: true, listChanged: true },
        prompts: { listChanged: true },
        logging: {},
        completions: {},
      })
      expect(shared.getInstructions()).toContain('mcprag')
      expect(await shared.ping()).toEqual({})
    })

    if (opts.auth) {
      test('authentication: without a token the client is refused; with it, tools run as the token\'s user', async () => {
        const anonymous = new Client({ name: `contract-${name}-anonymous`, version: '1.0.0' })
        await expect(anonymous.connect(await target.connect(server.url))).rejects.toThrow()
        await anonymous.close().catch(() => {})
        const whoami = await shared.callTool({ name: 'whoami', arguments: {} })
        expect(whoami.structuredContent).toMatchObject({ tier: 'user', email: expect.stringMatching(/^contract-.*@example\.com$/) })
      })
    }

    test('tools: list, call, and progress notifications for a call that asks for them', async () => {
      const { tools: listed } = await shared.listTools()
      expect(listed.map((t) => t.name)).toEqual(expect.arrayContaining(['echo', 'test_tool_with_progress']))
      expect(textOf(await shared.callTool({ name: 'echo', arguments: { text: 'over the wire' } }))).toBe('over the wire')
      const seen: number[] = []
      const result = await shared.callTool({ name: 'test_tool_with_progress', arguments: {} }, CallToolResultSchema, {
        onprogress: (p) => seen.push(p.progress),
      })
      expect(textOf(result)).toBe('Progress reported: 0, 50, 100')
      // The SDK runs notification handlers a microtask late, so a progress notification read in
      // the same chunk as the result reaches `onprogress` after the request has settled and is
      // dropped. The wire, which is what the server controls, has all three before the result.
      expect(seen.length).toBeGreaterThanOrEqual(2)
      const wire = wireOf(shared)
      const progress = wire.filter((m) => m.method === 'notifications/progress').slice(-3)
      expect(progress.map((m) => (m.params as { progress: number }).progress)).toEqual([0, 50, 100])
      const answered = wire.findIndex((m) => (m.result as { content?: unknown } | undefined)?.content !== undefined && textOf(m.result as object) === 'Progress reported: 0, 50, 100')
      expect(answered).toBeGreaterThan(wire.lastIndexOf(progress[2]!))
    })

    test('tools: cancelling a call aborts it on the server and the client gets no result', async () => {
      const before = tools.waits.length
      const abort = new AbortController()
      const call = shared.callTool({ name: WAIT_TOOL, arguments: {} }, CallToolResultSchema, { signal: abort.signal })
      await eventually(() => tools.waits.length > before, 'the tool to start')
      abort.abort('the test changed its mind')
      await expect(call).rejects.toThrow()
      await eventually(() => tools.waits[before]!.aborted, 'the server to see the cancellation')
      // The session is still usable afterwards.
      expect(textOf(await shared.callTool({ name: 'echo', arguments: { text: 'still here' } }))).toBe('still here')
    })

    test('resources: list, templates, read, and subscribe then receive notifications/resources/updated', async () => {
      const { resources } = await shared.listResources()
      expect(resources.map((r) => r.uri)).toEqual(expect.arrayContaining(['test://static-text', 'test://static-binary']))
      const { resourceTemplates } = await shared.listResourceTemplates()
      expect(resourceTemplates.map((t) => t.uriTemplate)).toContain('test://template/{id}/data')
      const read = await shared.readResource({ uri: 'test://static-text' })
      expect(read.contents[0]).toMatchObject({ uri: 'test://static-text', text: 'This is the content of the static text resource.' })
      const templated = await shared.readResource({ uri: 'test://template/42/data' })
      expect(JSON.parse((templated.contents[0] as { text: string }).text)).toMatchObject({ id: '42' })

      const updated: string[] = []
      shared.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri))
      await shared.subscribeResource({ uri: 'test://static-text' })
      // Streamable HTTP clients open their notification stream in the background: nudge until it is there.
      await eventually(() => updated.includes('test://static-text'), 'notifications/resources/updated', () =>
        server.core.resourceUpdated('test://static-text'),
      )
      await shared.unsubscribeResource({ uri: 'test://static-text' })
    })

    test('prompts: list, and get with arguments', async () => {
      const { prompts } = await shared.listPrompts()
      expect(prompts.map((p) => p.name)).toEqual(expect.arrayContaining(['test_simple_prompt', 'test_prompt_with_arguments']))
      const got = await shared.getPrompt({ name: 'test_prompt_with_arguments', arguments: { arg1: 'a', arg2: 'b' } })
      expect(got.messages[0]?.content).toEqual({ type: 'text', text: "Prompt with arguments: arg1='a', arg2='b'" })
    })

    test('completion: prompt arguments and resource-template variables', async () => {
      const prompt = await shared.complete({ ref: { type: 'ref/prompt', name: 'test_prompt_with_arguments' }, argument: { name: 'arg1', value: 'par' } })
      expect(prompt.completion.values).toEqual(['paris', 'park', 'party'])
      const template = await shared.complete({ ref: { type: 'ref/resource', uri: 'test://template/{id}/data' }, argument: { name: 'id', value: '4' } })
      expect(template.completion.values).toEqual(['456'])
    })

    test('logging: messages of a call arrive, and logging/setLevel filters them', async () => {
      const { client } = await connect()
      const logs: unknown[] = []
      client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.data))
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} })
      expect(logs).toEqual(['Tool execution started', 'Tool processing data', 'Tool execution completed'])
      await client.setLoggingLevel('error')
      logs.length = 0
      await client.callTool({ name: 'test_tool_with_logging', arguments: {} })
      expect(logs).toEqual([])
    })

    test('sampling: a tool asks the client to sample and gets its answer', async () => {
      const result = await shared.callTool({ name: 'test_sampling', arguments: { prompt: 'two words' } })
      expect(textOf(result)).toBe('LLM response: sampled: {"type":"text","text":"two words"}')
    })

    test('elicitation: a tool asks the user through the client and gets the form back', async () => {
      const result = await shared.callTool({ name: 'test_elicitation', arguments: { message: 'Who are you?' } })
      expect(textOf(result)).toBe('User response: action=accept, content={"username":"ada","email":"ada@example.com"}')
    })

    test('list_changed: adding a tool notifies connected clients', async () => {
      let changed = 0
      shared.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++)
      let n = 0
      const added: string[] = []
      // As with subscriptions, nudge (add another tool) until the client's stream is there.
      await eventually(() => changed > 0, 'notifications/tools/list_changed', () => {
        const toolName = `contract_added_${++n}`
        added.push(toolName)
        server.registry.tool({ name: toolName, description: 'added by the list_changed test', handler: () => ({ content: [] }) })
      })
      const { tools: listed } = await shared.listTools()
      expect(listed.map((t) => t.name)).toContain(added[0]!)
      for (const toolName of added) server.registry.removeTool(toolName)
    })

    test('errors: bad input gets the JSON-RPC error or tool error the spec prescribes', async () => {
      expect((await rpcError(shared.callTool({ name: 'no_such_tool', arguments: {} }))).code).toBe(-32602)
      const invalid = await shared.callTool({ name: 'echo', arguments: { text: 42 } })
      expect(invalid.isError).toBe(true)
      expect(textOf(invalid)).toContain('Invalid arguments for tool echo')
      expect((await rpcError(shared.readResource({ uri: 'test://nowhere' }))).code).toBe(-32002)
      expect((await rpcError(shared.getPrompt({ name: 'test_prompt_with_arguments', arguments: {} }))).code).toBe(-32602)
      expect((await rpcError(shared.request({ method: 'no/such/method', params: {} }, ListToolsResultSchema))).code).toBe(-32601)
      // None of it hurt the session.
      expect(textOf(await shared.callTool({ name: 'echo', arguments: { text: 'ok' } }))).toBe('ok')
    })

    test('shutdown: when the client closes, the server ends its session and drops its subscriptions', async () => {
      const { client, transport } = await connect()
      const sessionId = textOf(await client.callTool({ name: WHOAMI_TOOL, arguments: {} }))
      expect(sessionId).not.toBe('')
      expect(await server.stores.sessions.get(sessionId)).toBeDefined()
      // Every other client is closed too, so the bus should be back to the server's own topics.
      for (const other of open) if (other.client !== client) await endSession(other)
      await endSession({ client, transport })
      await eventually(async () => (await server.stores.sessions.get(sessionId)) === undefined, 'the session to end')
      // Its stream log went with it (a memory store can say so; a shared one expires keys by TTL).
      const streams = server.stores.streams as { sessionCount?: number }
      if (streams.sessionCount !== undefined) await eventually(() => streams.sessionCount === 0, 'no stream log to remain')
      open.length = 0
    })

    async function endSession({ client, transport }: { client: Client; transport: Transport }): Promise<void> {
      if (target.shutdown) await target.shutdown(client, transport)
      else await client.close()
    }
  })
}
