/**
 * @module core/methods/tools
 * `tools/list` and `tools/call`. A call's result is first a typed `ToolOutcome` (`runTool`): MCP
 * encodes it as JSON-RPC here (`encodeOutcome`), REST maps it to HTTP statuses (http/tool-routes.ts)
 * without parsing any text back. Unknown tools and malformed requests are JSON-RPC errors; invalid
 * arguments and tool failures are `isError: true` results the model can read (SEP-1303).
 */
import { ErrorCode, McpError, StoreUnavailable, ToolError, clip, invalidParams } from '../errors.ts'
import { InputRequiredSignal } from '../input-round.ts'
import type { Params } from '../jsonrpc.ts'
import type { ToolCallEvent } from '../ports.ts'
import type { RegisteredTool } from '../registry.ts'
import type { ArgumentProblem } from '../schema.ts'
import type { CallToolResult } from '../types.ts'
import type { Call } from '../call.ts'
import { requireString, type Method, type MethodDeps } from './method.ts'

/** How one tool call ended, validated once, for every transport to encode its own way. */
export type ToolOutcome =
  | { kind: 'ok'; result: CallToolResult }
  /** The tool reported a failure (`isError: true`, a `ToolError`, or an unexpected throw, logged). */
  | { kind: 'tool_error'; result: CallToolResult }
  /** The arguments do not match the input schema; the tool did not run. */
  | { kind: 'invalid_arguments'; problems: ArgumentProblem[] }
  /** Refused before running (tier, MFA, budget, audit down): `error.data` says why. */
  | { kind: 'denied'; error: McpError }
  /** The tool broke its own contract (a malformed result): an internal error for the client. */
  | { kind: 'failed'; error: McpError }
  | { kind: 'cancelled' }

export const listTools: Method = async (params, call, deps) => {
  const visible = deps.registry.tools().filter((t) => deps.access.canSee(call.principal, t))
  const page = deps.paginator.page('tools', visible, params.cursor)
  const result: Params = { tools: page.items.map((t) => t.descriptor) }
  if (page.nextCursor) result.nextCursor = page.nextCursor
  return result
}

const errorResult = (text: string): CallToolResult => ({ content: [{ type: 'text', text }], isError: true })

export const callTool: Method = async (params, call, deps) => {
  const name = requireString(params, 'name', 'tools/call')
  const args = params.arguments ?? {}
  if (typeof args !== 'object' || args === null || Array.isArray(args))
    throw invalidParams('tools/call: "arguments" must be an object when present')
  const tool = deps.registry.getTool(name)
  // A tool above the caller's tier is absent from tools/list but still named in the refusal
  // (`access.check` says which tier it needs), the same way on every transport. A name that is
  // no tool at all is a probing signal: observed (audited) like any refused call.
  if (!tool) {
    observer(deps, call, clip(name), args as Record<string, unknown>)('unknown_tool')
    throw invalidParams(`Unknown tool: ${clip(name)}`, { name: clip(name) })
  }
  return encodeOutcome(tool.definition.name, await runTool(tool, args as Record<string, unknown>, call, deps))
}

/** The JSON-RPC result of an outcome (undefined: cancelled, no response), or the error to answer with. */
export function encodeOutcome(name: string, outcome: ToolOutcome): Params | undefined {
  switch (outcome.kind) {
    case 'ok':
    case 'tool_error':
      return outcome.result as unknown as Params
    case 'invalid_arguments':
      return errorResult(`Invalid arguments for tool ${name}: ${outcome.problems.map((p) => p.message).join('; ')}`) as unknown as Params
    case 'denied':
    case 'failed':
      throw outcome.error
    case 'cancelled':
      return undefined
  }
}

function observer(deps: MethodDeps, call: Call, tool: string, args: Record<string, unknown>) {
  const started = deps.now()
  return (outcome: ToolCallEvent['outcome'], detail?: string) => {
    const event: ToolCallEvent = {
      tool,
      principal: call.principal,
      sessionId: call.session?.id,
      transport: call.transport,
      arguments: args,
      outcome,
      latencyMs: deps.now() - started,
      detail,
    }
    for (const o of deps.observers) o.onToolCall(event)
  }
}

/** Check access, validate the arguments (once), run the tool and observe the outcome. */
export async function runTool(tool: RegisteredTool, args: Record<string, unknown>, call: Call, deps: MethodDeps): Promise<ToolOutcome> {
  const name = tool.definition.name
  const observe = observer(deps, call, name, args)
  // Policies and handlers may answer synchronously; awaiting only promises keeps the common path short.
  let denied = deps.access.check(call.principal, tool, call.session)
  if (denied instanceof Promise) denied = await denied
  if (denied) {
    observe('denied', denied.message)
    return { kind: 'denied', error: denied }
  }
  const problems = tool.validateInput(args)
  if (problems) {
    observe('invalid_arguments', problems.map((p) => p.message).join('; '))
    return { kind: 'invalid_arguments', problems }
  }
  try {
    let raw = tool.definition.handler(args, call)
    if (raw instanceof Promise) raw = await call.settle(raw)
    if (call.cancelled) {
      observe('cancelled')
      return { kind: 'cancelled' }
    }
    const result = normalise(name, raw, tool.validateOutput)
    observe(result.isError ? 'tool_error' : 'ok')
    return result.isError ? { kind: 'tool_error', result } : { kind: 'ok', result }
  } catch (err) {
    if (call.cancelled) {
      observe('cancelled')
      return { kind: 'cancelled' }
    }
    // 2026-07-28: the handler asked the client for input; this round ends with `input_required`.
    if (err instanceof InputRequiredSignal) {
      observe('input_required')
      throw err
    }
    if (err instanceof ToolError) {
      observe('tool_error', err.message)
      return { kind: 'tool_error', result: errorResult(err.message) }
    }
    if (err instanceof McpError) {
      observe('failed', err.message)
      return { kind: 'failed', error: err }
    }
    // The store is down, not the tool broken: the caller's transport answers "retry shortly".
    if (err instanceof StoreUnavailable) {
      observe('failed', err.message)
      throw err
    }
    // Unexpected failures are logged here and reach the client without internals.
    console.error(`[tools] ${name} failed:`, err)
    observe('failed', err instanceof Error ? err.message : String(err))
    return { kind: 'tool_error', result: errorResult(`Tool ${name} failed unexpectedly; the error has been logged`) }
  }
}

function normalise(name: string, raw: CallToolResult, validateOutput?: RegisteredTool['validateOutput']): CallToolResult {
  if (!raw || typeof raw !== 'object' || !Array.isArray(raw.content))
    throw new McpError(ErrorCode.InternalError, `Tool ${name} returned a malformed result`)
  if (raw.isError || !validateOutput) return raw
  // With an outputSchema the server MUST return conforming structuredContent (tools spec).
  if (raw.structuredContent === undefined)
    throw new McpError(ErrorCode.InternalError, `Tool ${name} declares an outputSchema but returned no structuredContent`)
  const problems = validateOutput(raw.structuredContent)
  if (problems)
    throw new McpError(ErrorCode.InternalError, `Tool ${name} returned structuredContent that violates its outputSchema: ${problems.map((p) => p.message).join('; ')}`)
  if (raw.content.length === 0) return { ...raw, content: [{ type: 'text', text: JSON.stringify(raw.structuredContent) }] }
  return raw
}
