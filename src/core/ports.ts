/**
 * @module core/ports
 * What the protocol core needs from the outside world, as interfaces. The composition root
 * (`src/server.ts`) plugs in implementations; tests plug in fakes.
 */
import type { McpError } from './errors.ts'
import type { RegisteredTool } from './registry.ts'
import type { SessionState } from './session.ts'
import type { Principal } from './types.ts'

/** Who may see and call which tool. The default lets everyone do everything (auth off). */
export interface ToolAccess {
  canSee(principal: Principal, tool: RegisteredTool): boolean
  /** An error to return instead of running the tool, or undefined to allow it. */
  check(principal: Principal, tool: RegisteredTool, session?: SessionState): McpError | undefined | Promise<McpError | undefined>
}

/** Observes every tool execution (audit, metrics). Must not throw. */
export interface ToolCallObserver {
  onToolCall(event: ToolCallEvent): void
}

export interface ToolCallEvent {
  tool: string
  principal: Principal
  sessionId?: string
  transport: string
  arguments: Record<string, unknown>
  /**
   * `input_required`: a 2026-07-28 round that ended asking the client for input (the retry is a new call).
   * `unknown_tool`: no tool has that name (`tool` is the name asked for, clipped).
   */
  outcome: 'ok' | 'tool_error' | 'invalid_arguments' | 'denied' | 'failed' | 'cancelled' | 'input_required' | 'unknown_tool'
  latencyMs: number
  detail?: string
}

export const allowAll: ToolAccess = {
  canSee: () => true,
  check: () => undefined,
}
