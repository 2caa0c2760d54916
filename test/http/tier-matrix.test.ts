/**
 * The tier matrix (security.md T-G3), generated from the tool registry: every registered tool ×
 * {anonymous, public, user, admin without MFA, admin with MFA} × {REST, Streamable HTTP, legacy
 * SSE, WebSocket}. Exactly the cells where the caller's tier reaches the tool's, and admin tools
 * only with a fresh MFA on the calling session, may run; the others are refused with the same
 * reason on every transport, and anonymous callers are refused (401) before any session or socket
 * exists. Lists show exactly the tools at or below the caller's tier. A tool added to the registry
 * joins the matrix by itself. Streamable HTTP is asked twice: in a 2025 session, and with MCP
 * 2026-07-28 requests that stand alone (no session: the bearer token is all there is).
 *
 * Each signed-in caller holds one connection per MCP transport for the whole file: a Streamable
 * HTTP session, a legacy SSE stream (bearer header on the GET and on every POST) and a WebSocket
 * opened with a single-use ticket (the browser route), so the WebSocket column also proves that a
 * ticket carries the MFA state of the session it was issued from.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Registry, type RegisteredTool } from '../../src/core/registry.ts'
import { registerBuiltinTools } from '../../src/tools/builtin.ts'
import { CodeAccess } from '../../src/rag/code-access.ts'
import { registerCodeTools } from '../../src/tools/code-tools.ts'
import type { Tier } from '../../src/core/types.ts'
import { bearer, enrolTotp, mcpCall, mcpSession, restPost, signIn, startHarness, wsTicketUrl, type Harness, type McpSession } from '../_utils/auth.ts'
import { post } from '../_utils/http.ts'
import { openLegacyStream, postMessage } from '../_utils/legacy-sse.ts'
import { modernCall, modernRequest } from '../_utils/modern.ts'
import { McpSocket, upgradeRequest } from '../_utils/ws.ts'

type Caller = 'anonymous' | 'public' | 'user' | 'admin without MFA' | 'admin with MFA'
const CALLERS: Caller[] = ['anonymous', 'public', 'user', 'admin without MFA', 'admin with MFA']
const RANK: Record<Tier, number> = { public: 0, user: 1, admin: 2 }
const tierOf = (c: Caller): Tier | undefined => (c === 'anonymous' ? undefined : c.startsWith('admin') ? 'admin' : (c as Tier))

/** What should happen: run, 401, or a refusal with its reason. */
function expected(c: Caller, tool: RegisteredTool): 'ok' | 'unauthenticated' | 'insufficient_tier' | 'mfa_required' {
  const tier = tierOf(c)
  if (!tier) return 'unauthenticated'
  if (RANK[tier] < RANK[tool.tier]) return 'insufficient_tier'
  if (tool.tier === 'admin' && c !== 'admin with MFA') return 'mfa_required'
  return 'ok'
}

function builtinRegistry(): Registry {
  const registry = new Registry()
  registerBuiltinTools(registry, { audit: { query: async () => [] } })
  registerCodeTools(registry, new CodeAccess(undefined))
  return registry
}

/** Arguments that succeed where a schema's minimum would not (the code tools run over a one-file repository). */
const EXAMPLE_ARGS: Record<string, Record<string, unknown>> = { search_code: { query: 'hello' }, analyze_context: { symbol: 'hello' } }
const argsFor = (tool: RegisteredTool) => EXAMPLE_ARGS[tool.definition.name] ?? sampleArgs(tool.definition.inputSchema ?? {})

/** Minimal valid arguments from a tool's input schema (required properties only). */
function sampleArgs(schema: Record<string, unknown>): Record<string, unknown> {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>
  const out: Record<string, unknown> = {}
  for (const key of (schema.required ?? []) as string[]) out[key] = sample(props[key] ?? {})
  return out
}
function sample(p: Record<string, unknown>): unknown {
  if (Array.isArray(p.enum)) return p.enum[0]
  switch (p.type) {
    case 'string':
      return 'x'.repeat(Math.max(1, Number(p.minLength ?? 1)))
    case 'integer':
    case 'number':
      return p.minimum ?? 1
    case 'boolean':
      return true
    case 'array':
      return []
    case 'object':
      return sampleArgs(p)
    default:
      return 'x'
  }
}

type Transport = 'Streamable HTTP' | 'Streamable HTTP 2026-07-28' | 'legacy SSE' | 'WebSocket'
const TRANSPORTS: Transport[] = ['Streamable HTTP', 'Streamable HTTP 2026-07-28', 'legacy SSE', 'WebSocket']

/** One signed-in caller's connection on one MCP transport: send a request, get its JSON-RPC response. */
type Rpc = (method: string, params: Record<string, unknown>) => Promise<Record<string, unknown>>

let h: Harness
const tokens = new Map<Caller, string | undefined>()
const rpcs = new Map<`${Caller}/${Transport}`, Rpc>()
const closers: (() => unknown)[] = []
const sseEndpoints = new Map<Caller, string>()
const callerOf = (token: string) => CALLERS.find((c) => tokens.get(c) === token)!
let tools: RegisteredTool[]
let nextId = 1

async function streamableRpc(token: string): Promise<Rpc> {
  const session: McpSession = await mcpSession(h, token)
  return async (method, params) => {
    const res = await mcpCall(h, session, method, params, nextId++)
    expect(res.status).toBe(200)
    return res.body
  }
}

async function modernRpc(token: string): Promise<Rpc> {
  return async (method, params) => {
    const reply = await modernCall(`${h.url}/mcp`, method, params, { id: nextId++, auth: bearer(token) })
    expect(reply.status).toBe(200)
    return reply.body as Record<string, unknown>
  }
}

async function legacySseRpc(token: string): Promise<Rpc> {
  const { sse, endpoint } = await openLegacyStream(`${h.url}/sse`, bearer(token))
  closers.push(() => sse.close())
  sseEndpoints.set(callerOf(token), endpoint)
  const rpc = async (method: string, params: Record<string, unknown>) => {
    const id = nextId++
    const posted = await postMessage(endpoint, { jsonrpc: '2.0', id, method, params }, bearer(token))
    expect(posted.status).toBe(202)
    return sse.reply(id)
  }
  const init = await rpc('initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'tier-matrix', version: '1' } })
  if (init.error) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`)
  expect((await postMessage(endpoint, { jsonrpc: '2.0', method: 'notifications/initialized' }, bearer(token))).status).toBe(202)
  return rpc
}

async function webSocketRpc(token: string): Promise<Rpc> {
  const socket = await McpSocket.connect(await wsTicketUrl(h.url, token))
  closers.push(() => socket.close())
  return (method, params) => socket.request(method, params)
}

const CONNECT: Record<Transport, (token: string) => Promise<Rpc>> = {
  'Streamable HTTP': streamableRpc,
  'Streamable HTTP 2026-07-28': modernRpc,
  'legacy SSE': legacySseRpc,
  WebSocket: webSocketRpc,
}

/** An anonymous attempt on each MCP transport: all are refused before any session exists. */
async function anonymousRefusals(method: string, params: Record<string, unknown>): Promise<Record<Transport | 'legacy SSE POST', number>> {
  const stream = await fetch(`${h.url}/sse`, { headers: { accept: 'text/event-stream' } })
  // To a live legacy session (the user's): a session id is not a credential.
  const message = await postMessage(sseEndpoints.get('user')!, { jsonrpc: '2.0', id: nextId++, method, params })
  for (const res of [stream, message]) expect(res.headers.get('www-authenticate')).toContain('resource_metadata=')
  const modern = modernRequest(method, params)
  return {
    'Streamable HTTP': (await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method, params })).status,
    'Streamable HTTP 2026-07-28': (await post(`${h.url}/mcp`, modern.body, modern.headers)).status,
    'legacy SSE': stream.status,
    'legacy SSE POST': message.status,
    WebSocket: (await upgradeRequest(`${h.url}/mcp/ws`)).status,
  }
}
const ALL_401 = { 'Streamable HTTP': 401, 'Streamable HTTP 2026-07-28': 401, 'legacy SSE': 401, 'legacy SSE POST': 401, WebSocket: 401 }

beforeAll(async () => {
  const repo = mkdtempSync(join(tmpdir(), 'mcprag-matrix-repo-'))
  writeFileSync(join(repo, 'hello.ts'), 'export function hello(name: string): string {\n  return `hello ${name}`\n}\n')
  closers.push(() => rmSync(repo, { recursive: true, force: true }))
  h = await startHarness({ MCPRAG_INDEX_ROOTS: `matrix=${repo}`, MCPRAG_INDEX_WATCH: 'off' })
  tools = h.server.registry.tools()
  tokens.set('anonymous', undefined)
  tokens.set('public', (await signIn(h, 'pub@example.com', 'public')).token)
  tokens.set('user', (await signIn(h, 'usr@example.com', 'user')).token)
  // One admin, two sessions: MFA on one of them must not carry over to the other.
  tokens.set('admin without MFA', (await signIn(h, 'adm@example.com', 'admin')).token)
  const mfa = await signIn(h, 'adm@example.com')
  await enrolTotp(h, mfa)
  tokens.set('admin with MFA', mfa.token)
  for (const c of CALLERS) {
    const token = tokens.get(c)
    if (token) for (const t of TRANSPORTS) rpcs.set(`${c}/${t}`, await CONNECT[t](token))
  }
})
afterAll(async () => {
  for (const close of closers) await close()
  await h.stop()
})

test('the registry has a tool of every tier, so every column of the matrix is exercised', () => {
  expect(new Set(tools.map((t) => t.tier))).toEqual(new Set<Tier>(['public', 'user', 'admin']))
})

describe('lists show exactly the tools at or below the caller\'s tier', () => {
  for (const c of CALLERS) {
    test(c, async () => {
      const token = tokens.get(c)
      const rest = await fetch(`${h.url}/mcp/tools`, { headers: token ? bearer(token) : {} })
      if (!token) {
        expect(rest.status).toBe(401)
        expect(await anonymousRefusals('tools/list', {})).toEqual(ALL_401)
        return
      }
      const want = tools.filter((t) => RANK[t.tier] <= RANK[tierOf(c)!]).map((t) => t.definition.name).sort()
      const body = (await rest.json()) as { tools: { name: string; tier: string }[]; total: number }
      expect(body.tools.map((t) => t.name).sort()).toEqual(want)
      expect(body.total).toBe(want.length)
      for (const t of body.tools) expect(t.tier).toBe(h.server.registry.getTool(t.name)!.tier)
      for (const t of TRANSPORTS) {
        const mcp = await rpcs.get(`${c}/${t}`)!('tools/list', {})
        expect({ transport: t, tools: ((mcp.result as { tools: { name: string }[] }).tools).map((x) => x.name).sort() }).toEqual({ transport: t, tools: want })
      }
    })
  }
})

describe('calls', () => {
  // Tests are declared before the server starts, so they are generated from a registry built the
  // way the server builds its own; the first test checks the two agree.
  const declared = builtinRegistry().tools().map((t) => ({ name: t.definition.name }))
  test('the server registers exactly the built-in tools the matrix was generated from', () => {
    expect(tools.map((t) => t.definition.name).sort()).toEqual(declared.map((d) => d.name).sort())
  })
  for (const { name } of declared) {
    for (const c of CALLERS) {
      test(`${name} × ${c} over REST`, async () => {
        const tool = h.server.registry.getTool(name)!
        const want = expected(c, tool)
        const token = tokens.get(c)
        const rest = await restPost(`${h.url}/mcp/tool/${name}`, argsFor(tool), token ? bearer(token) : {})
        const restBody = (await rest.json()) as Record<string, unknown>
        if (want === 'ok') {
          expect({ status: rest.status, isError: (restBody.result as { isError?: boolean } | undefined)?.isError }).toEqual({ status: 200, isError: undefined })
        } else if (want === 'unauthenticated') {
          expect(rest.status).toBe(401)
          expect(rest.headers.get('www-authenticate')).toContain('resource_metadata=')
        } else {
          expect({ status: rest.status, error: restBody.error }).toEqual({ status: 403, error: want })
          expect(restBody.required_tier).toBe(tool.tier)
        }
      })

      if (c === 'anonymous') {
        test(`${name} × anonymous over Streamable HTTP (both eras), legacy SSE and WebSocket: 401 before any session`, async () => {
          const tool = h.server.registry.getTool(name)!
          expect(await anonymousRefusals('tools/call', { name, arguments: argsFor(tool) })).toEqual(ALL_401)
        })
        continue
      }
      for (const t of TRANSPORTS) {
        test(`${name} × ${c} over ${t}`, async () => {
          const tool = h.server.registry.getTool(name)!
          const want = expected(c, tool)
          const reply = await rpcs.get(`${c}/${t}`)!('tools/call', { name, arguments: argsFor(tool) })
          if (want === 'ok') {
            expect(reply.error).toBeUndefined()
            expect((reply.result as { isError?: boolean }).isError).toBeUndefined()
          } else {
            const error = reply.error as { code: number; message: string; data: { reason: string; required_tier: string } }
            expect({ code: error.code, reason: error.data.reason, required: error.data.required_tier }).toEqual({ code: -32003, reason: want, required: tool.tier })
            expect(error.message).toContain(want === 'mfa_required' ? '/auth/verify-mfa' : 'set-tier')
          }
        })
      }
    }
  }
})
