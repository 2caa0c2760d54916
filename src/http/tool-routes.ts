/**
 * @module http/tool-routes
 * REST access to tools: `GET /mcp/tools` lists what the caller may use, `POST /mcp/tool/{name}`
 * calls one with the body as its arguments. Calls go through the protocol core as a `tools/call`
 * on the `rest` transport, so tiers, MFA, rate limits, validation and audit are exactly those of
 * MCP; this file only maps the outcome to HTTP: 200 `{result}`, 401, 403 (the body says whether
 * the tier or MFA is missing), 404 unknown tool, 400/422 bad arguments (naming the field), 429,
 * and 500 without internals.
 */
import { Elysia } from 'elysia'
import { ErrorCode, type McpError } from '../core/errors.ts'
import type { McpServer, ToolOutcome } from '../core/mcp-server.ts'
import type { ToolAccess } from '../core/ports.ts'
import { TOOL_NAME, type RegisteredTool } from '../core/registry.ts'
import type { Principal } from '../core/types.ts'
import type { HttpGuard } from '../transports/http-guard.ts'
import { authChallenge, json, restError } from '../lib/respond.ts'
import type { JsonLimits } from '../transports/json-limits.ts'
import { readJsonObject } from './rest.ts'
import { ROUTE_DOCS } from './route-docs.ts'

export interface ToolRoutesOptions {
  core: McpServer
  access: ToolAccess
  guard: HttpGuard
  /** The caller, or the 401/429 response to send instead. */
  authenticate: (request: Request) => Promise<Principal | Response>
  /** A 401 to send when a session ended between authentication and the call. */
  unauthenticated: (request: Request) => Response
  /** What a call's body may be (size, nesting, keys), checked before it is parsed. */
  json: JsonLimits
  /** Whether calls need a bearer token (authentication on); for the OpenAPI document. */
  authRequired: boolean
}

const PREFIX = '/mcp/tool/'

/** The tool name from the raw path: exactly one segment, decoded once, of registrable characters. */
function toolNameOf(request: Request): string | undefined {
  const raw = new URL(request.url).pathname.slice(PREFIX.length)
  try {
    const name = decodeURIComponent(raw)
    return TOOL_NAME.test(name) ? name : undefined
  } catch {
    return undefined
  }
}

export function toolRoutes(o: ToolRoutesOptions) {
  const { core, guard } = o

  const list = async ({ request }: { request: Request }) => {
    const denied = guard.check(request)
    if (denied) return denied
    const cors = guard.cors(request)
    const principal = await o.authenticate(request)
    if (principal instanceof Response) return principal
    const tools = core.registry.tools().filter((t) => o.access.canSee(principal, t)).map((t) => ({ ...t.descriptor, tier: t.tier }))
    return json(200, { tools, total: tools.length }, cors)
  }

  const call = async ({ request }: { request: Request }) => {
    const denied = guard.check(request)
    if (denied) return denied
    const cors = guard.cors(request)
    const principal = await o.authenticate(request)
    if (principal instanceof Response) return principal
    const name = toolNameOf(request)
    const tool = name === undefined ? undefined : core.registry.getTool(name)
    if (!tool) return restError(404, 'unknown_tool', 'No such tool: GET /mcp/tools lists the tools you may call', {}, cors)
    const args = await readJsonObject(request, o.json, { allowEmpty: true })
    if (args instanceof Response) return args
    const outcome = await core.callTool(tool, args, { principal, transport: 'rest', send: () => {} })
    return toHttp(outcome, tool, cors, () => o.unauthenticated(request))
  }

  return new Elysia({ name: 'http:tools' })
    .get('/mcp/tools', list, { detail: ROUTE_DOCS.listTools(o.authRequired) })
    // Documented per tool instead (http/tool-operations.ts).
    .post('/mcp/tool/*', call, { parse: 'none', detail: ROUTE_DOCS.hidden })
    .options('/mcp/tools', ({ request }) => guard.preflight(request, 'GET'))
    .options('/mcp/tool/*', ({ request }) => guard.preflight(request, 'POST'))
}

/** The HTTP answer to a tool call's outcome: no text is parsed back, the core says what happened. */
function toHttp(outcome: ToolOutcome, tool: RegisteredTool, cors: Record<string, string>, unauthenticated: () => Response): Response {
  const name = tool.definition.name
  switch (outcome.kind) {
    case 'ok':
      return json(200, { result: outcome.result }, cors)
    case 'invalid_arguments': {
      const { problems } = outcome
      const message = `Invalid arguments for tool ${name}: ${problems.map((p) => p.message).join('; ')}`
      return restError(422, 'invalid_arguments', message, { problems: problems.map((p) => p.message), fields: problems.map((p) => p.path) }, cors)
    }
    case 'denied':
      return refusal(outcome.error, cors, unauthenticated)
    case 'tool_error': {
      const text = outcome.result.content.find((c) => c.type === 'text')
      return restError(500, 'tool_failed', text?.type === 'text' ? text.text : `Tool ${name} failed`, {}, cors)
    }
    case 'failed':
    case 'cancelled':
      return restError(500, 'tool_failed', `Tool ${name} failed; the error has been logged`, {}, cors)
  }
}

/** A call refused before it ran: 401 (session ended), 403 (tier, MFA), 429 (budget) or 503 (audit down). */
function refusal(error: McpError, cors: Record<string, string>, unauthenticated: () => Response): Response {
  const { code, message } = error
  const d = (error.data ?? {}) as { reason?: string; required_tier?: string; retry_after_s?: number; scope?: string; resource_metadata?: string }
  if (code === ErrorCode.RateLimited)
    return restError(429, 'rate_limited', message, { retry_after_s: d.retry_after_s }, { ...cors, 'retry-after': String(d.retry_after_s ?? 1) })
  if (d.reason === 'session_expired') return unauthenticated()
  // An OAuth token without the scope: the challenge tells the client what to ask for (RFC 6750 §3.1).
  if (d.reason === 'insufficient_scope' && d.resource_metadata !== undefined)
    return restError(403, 'insufficient_scope', message, { required_tier: d.required_tier, scope: d.scope }, {
      ...cors,
      'www-authenticate': authChallenge({ resourceMetadata: d.resource_metadata, scope: d.scope, error: 'insufficient_scope', description: message }),
    })
  // The server, not the caller, is at fault: retryable once the audit store recovers.
  if (d.reason === 'audit_unavailable') return restError(503, 'audit_unavailable', message, { required_tier: d.required_tier }, { ...cors, 'retry-after': '5' })
  if (code === ErrorCode.Forbidden) return restError(403, d.reason ?? 'forbidden', message, { required_tier: d.required_tier }, cors)
  return restError(400, 'invalid_request', message, {}, cors)
}
