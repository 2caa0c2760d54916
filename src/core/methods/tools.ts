/**
 * @module core/methods/tools
 * `tools/list` and `tools/call`. Unknown tools and malformed requests are JSON-RPC errors; invalid
 * arguments and tool failures are `isError: true` results the model can read (SEP-1303).
 */
import { ErrorCode, McpError, ToolError, invalidParams } from '../errors.ts'
import { InputRequiredSignal } from '../input-round.ts'
import type { Params } from '../jsonrpc.ts'
import type { ToolCallEvent } from '../ports.ts'
import type { CallToolResult } from '../types.ts'
import { requireString, type Method } from './method.ts'

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
  // (`access.check` says which tier it needs), the same way on every transport.
  if (!tool) throw invalidParams(`Unknown tool: ${name}`, { name })

  const started = deps.now()
  const observe = (outcome: ToolCallEvent['outcome'], detail?: string) => {
    const event: ToolCallEvent = {
      tool: name,
      principal: call.principal,
      sessionId: call.session?.id,
      transport: call.transport,
      arguments: args as Record<string, unknown>,
      outcome,
      latencyMs: deps.now() - started,
      detail,
    }
    for (const o of deps.observers) o.onToolCall(event)
  }

  // Policies and handlers may answer synchronously; awaiting only promises keeps the common path short.
  let denied = deps.access.check(call.principal, tool, call.session)
  if (denied instanceof Promise) denied = await denied
  if (denied) {
    observe('denied', denied.message)
    throw denied
  }
  const problems = tool.validateInput(args)
  if (problems) {
    observe('invalid_arguments', problems.join('; '))
    return errorResult(`Invalid arguments for tool ${name}: ${problems.join('; ')}`) as unknown as Params
  }
  try {
    let raw = tool.definition.handler(args as Record<string, unknown>, call)
    if (raw instanceof Promise) raw = await call.settle(raw)
    if (call.cancelled) {
      observe('cancelled')
      return undefined
    }
    const result = normalise(name, raw, tool.validateOutput)
    observe(result.isError ? 'tool_error' : 'ok')
    return result as unknown as Params
  } catch (err) {
    if (call.cancelled) {
      observe('cancelled')
      return undefined
    }
    // 2026-07-28: the handler asked the client for input; this round ends with `input_required`.
    if (err instanceof InputRequiredSignal) {
      observe('input_required')
      throw err
    }
    if (err instanceof ToolError) {
      observe('tool_error', err.message)
      return errorResult(err.message) as unknown as Params
    }
    if (err instanceof McpError) {
      observe('failed', err.message)
      throw err
    }
    // Unexpected failures are logged here and reach the client without internals.
    console.error(`[tools] ${name} failed:`, err)
    observe('failed', err instanceof Error ? err.message : String(err))
    return errorResult(`Tool ${name} failed unexpectedly; the error has been logged`) as unknown as Params
  }
}

function normalise(name: string, raw: CallToolResult, validateOutput?: (v: unknown) => string[] | undefined): CallToolResult {
  if (!raw || typeof raw !== 'object' || !Array.isArray(raw.content))
    throw new McpError(ErrorCode.InternalError, `Tool ${name} returned a malformed result`)
  if (raw.isError || !validateOutput) return raw
  // With an outputSchema the server MUST return conforming structuredContent (tools spec).
  if (raw.structuredContent === undefined)
    throw new McpError(ErrorCode.InternalError, `Tool ${name} declares an outputSchema but returned no structuredContent`)
  const problems = validateOutput(raw.structuredContent)
  if (problems)
    throw new McpError(ErrorCode.InternalError, `Tool ${name} returned structuredContent that violates its outputSchema: ${problems.join('; ')}`)
  if (raw.content.length === 0) return { ...raw, content: [{ type: 'text', text: JSON.stringify(raw.structuredContent) }] }
  return raw
}
