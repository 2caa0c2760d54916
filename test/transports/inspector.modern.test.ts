/**
 * The MCP Inspector CLI 2.12 with `--protocol-era modern`: the SDK 2.x client pinned to MCP
 * 2026-07-28, so every call is a request standing alone (`server/discover`, then the call, each
 * with its `_meta` envelope and Mcp-* headers). The CLI declares the `roots` capability (answered
 * from the roots of its config file) but never `sampling` or `elicitation`: a tool that asks for
 * roots completes an `input_required` round through it, and the tools that sample or elicit are
 * refused with -32021 naming the capability, where a 2025 session ends them `isError`.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspectorCommand, run } from '../_utils/inspector.ts'
import { startTestServer } from '../_utils/server.ts'

let server: Awaited<ReturnType<typeof startTestServer>>
let dir: string
let inspector: string[]
beforeAll(async () => {
  server = await startTestServer()
  inspector = await inspectorCommand()
  dir = mkdtempSync(join(tmpdir(), 'mcprag-inspector-'))
})
afterAll(async () => {
  await server.stop()
  rmSync(dir, { recursive: true, force: true })
})

const modern = (...args: string[]) => run([...inspector, '--cli', server.mcpUrl, '--transport', 'http', '--protocol-era', 'modern', ...args])

function expectOk(r: { code: number; err: string }): void {
  if (r.code !== 0) console.error(`inspector exited ${r.code}:`, r.err)
  expect(r.code).toBe(0)
}

test('tools/list in the modern era lists the tools, each request standing alone', async () => {
  const r = await modern('--method', 'tools/list')
  expectOk(r)
  const names = (JSON.parse(r.out) as { tools: { name: string }[] }).tools.map((t) => t.name)
  expect(names).toEqual(server.registry.tools().map((t) => t.definition.name))
})

test('tools/call of echo answers with the result and the server identity in _meta', async () => {
  const r = await modern('--method', 'tools/call', '--tool-name', 'echo', '--tool-arg', 'text=from the modern inspector')
  expectOk(r)
  expect(JSON.parse(r.out)).toEqual({
    _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'mcprag', title: 'mcprag', version: server.core.info.version } },
    content: [{ type: 'text', text: 'from the modern inspector' }],
  })
})

test('a tool that asks for the roots completes an input_required round with the roots of the config file', async () => {
  const config = join(dir, 'mcp.json')
  const roots = [{ uri: 'file:///work/project', name: 'project' }]
  writeFileSync(config, JSON.stringify({ mcpServers: { mcprag: { type: 'streamable-http', url: server.mcpUrl, protocolEra: 'modern', roots } } }))
  const r = await run([...inspector, '--cli', '--config', config, '--server', 'mcprag', '--method', 'tools/call', '--tool-name', 'test_input_required_result_list_roots'])
  expectOk(r)
  expect((JSON.parse(r.out) as { content: unknown }).content).toEqual([{ type: 'text', text: 'Client roots: file:///work/project' }])
})

test('the sampling and the eliciting tool are refused with the capability the CLI did not declare (-32021)', async () => {
  const sampling = await modern('--method', 'tools/call', '--tool-name', 'test_sampling', '--tool-arg', 'prompt=hello')
  expect(sampling.code).toBe(1)
  expect(sampling.err).toContain('The client did not declare the \\"sampling\\" capability in _meta[\\"io.modelcontextprotocol/clientCapabilities\\"]')
  const elicit = await modern('--method', 'tools/call', '--tool-name', 'test_elicitation', '--tool-arg', 'message=Who are you?')
  expect(elicit.code).toBe(1)
  expect(elicit.err).toContain('The client did not declare form-mode \\"elicitation\\" support in _meta')
  // The same tool over a 2025 session: a tool error the model can read (exit 5), as before.
  const legacy = await run([...inspector, '--cli', server.mcpUrl, '--transport', 'http', '--method', 'tools/call', '--tool-name', 'test_sampling', '--tool-arg', 'prompt=hello'])
  expect(legacy.code).toBe(5)
}, 60_000)

test('prompts/get and resources/read work in the modern era', async () => {
  const prompt = await modern('--method', 'prompts/get', '--prompt-name', 'test_prompt_with_arguments', '--prompt-args', 'arg1=a', 'arg2=b')
  expectOk(prompt)
  expect((JSON.parse(prompt.out) as { messages: unknown }).messages).toEqual([{ role: 'user', content: { type: 'text', text: "Prompt with arguments: arg1='a', arg2='b'" } }])
  const resource = await modern('--method', 'resources/read', '--uri', 'test://static-text')
  expectOk(resource)
  expect((JSON.parse(resource.out) as { contents: unknown }).contents).toEqual([
    { uri: 'test://static-text', mimeType: 'text/plain', text: 'This is the content of the static text resource.' },
  ])
}, 60_000)
