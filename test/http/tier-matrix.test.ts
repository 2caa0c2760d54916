/**
 * The tier matrix (security.md T-G3), generated from the tool registry: every registered tool ×
 * {anonymous, public, user, admin without MFA, admin with MFA} × {REST, Streamable HTTP}. Exactly
 * the cells where the caller's tier reaches the tool's, and admin tools only with a fresh MFA on
 * the calling session, may run; the others are refused with the same reason on both transports.
 * Lists show exactly the tools at or below the caller's tier. A tool added to the registry joins
 * the matrix by itself. (Legacy SSE and WebSocket columns: see the issue 4 report.)
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Registry, type RegisteredTool } from '../../src/core/registry.ts'
import { registerBuiltinTools } from '../../src/tools/builtin.ts'
import type { Tier } from '../../src/core/types.ts'
import { bearer, enrolTotp, mcpCall, mcpSession, restPost, signIn, startHarness, type Harness, type McpSession } from '../_utils/auth.ts'
import { post } from '../_utils/http.ts'

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
  return registry
}

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

let h: Harness
const tokens = new Map<Caller, string | undefined>()
const sessions = new Map<Caller, McpSession>()
let tools: RegisteredTool[]

beforeAll(async () => {
  h = await startHarness()
  tools = h.server.registry.tools()
  tokens.set('anonymous', undefined)
  tokens.set('public', (await signIn(h, 'pub@example.com', 'public')).token)
  tokens.set('user', (await signIn(h, 'usr@example.com', 'user')).token)
  // One admin, two sessions: MFA on one of them must not carry over to the other.
  tokens.set('admin without MFA', (await signIn(h, 'adm@example.com', 'admin')).token)
  const mfa = await signIn(h, 'adm@example.com')
  await enrolTotp(h, mfa)
  tokens.set('admin with MFA', mfa.token)
  for (const c of CALLERS) if (tokens.get(c)) sessions.set(c, await mcpSession(h, tokens.get(c)!))
})
afterAll(() => h.stop())

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
        expect((await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/list' })).status).toBe(401)
        return
      }
      const want = tools.filter((t) => RANK[t.tier] <= RANK[tierOf(c)!]).map((t) => t.definition.name).sort()
      const body = (await rest.json()) as { tools: { name: string; tier: string }[]; total: number }
      expect(body.tools.map((t) => t.name).sort()).toEqual(want)
      expect(body.total).toBe(want.length)
      for (const t of body.tools) expect(t.tier).toBe(h.server.registry.getTool(t.name)!.tier)
      const mcp = await mcpCall(h, sessions.get(c)!, 'tools/list', {})
      expect(((mcp.body.result as { tools: { name: string }[] }).tools).map((t) => t.name).sort()).toEqual(want)
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
      test(`${name} × ${c} over REST and Streamable HTTP`, async () => {
        const tool = h.server.registry.getTool(name)!
        const want = expected(c, tool)
        const args = sampleArgs(tool.definition.inputSchema ?? {})
        const token = tokens.get(c)

        const rest = await restPost(`${h.url}/mcp/tool/${name}`, args, token ? bearer(token) : {})
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

        if (!token) {
          const res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } })
          expect(res.status).toBe(401)
          return
        }
        const mcp = await mcpCall(h, sessions.get(c)!, 'tools/call', { name, arguments: args })
        expect(mcp.status).toBe(200)
        if (want === 'ok') {
          expect(mcp.body.error).toBeUndefined()
          expect((mcp.body.result as { isError?: boolean }).isError).toBeUndefined()
        } else {
          const error = mcp.body.error as { code: number; message: string; data: { reason: string; required_tier: string } }
          expect({ code: error.code, reason: error.data.reason, required: error.data.required_tier }).toEqual({ code: -32003, reason: want, required: tool.tier })
          expect(error.message).toContain(want === 'mfa_required' ? '/auth/verify-mfa' : 'set-tier')
        }
      })
    }
  }
})
