/**
 * @module core/context
 * What a tool, resource or prompt handler can see and do while it runs. Handlers never see a
 * transport, an HTTP request or a socket: they talk to the client only through this object.
 *
 * The same handler serves both protocol eras. In a 2025 session, `sample`, `elicit`, `elicitUrl`
 * and `listRoots` send a request to the client and wait for its answer. In a 2026-07-28 request
 * (no session) they cannot: the handler is run again for each round of a multi-round-trip request
 * (`core/input-round.ts`), answered inputs resolve at once and the first unanswered one ends the
 * round with `input_required`. So, for 2026-07-28 clients, a handler must be safe to re-run up to
 * its questions (ask before acting, not after) and must ask the same questions in the same order
 * for the same arguments; `Promise.all` over several asks gets them answered in one round.
 */
import type { RequestId } from './jsonrpc.ts'
import type { SessionState } from './session.ts'
import type { ClientCapabilities, Implementation, JsonSchema, LogLevel, Principal, TransportKind } from './types.ts'

export interface SamplingMessage {
  role: 'user' | 'assistant'
  content: Record<string, unknown> | Record<string, unknown>[]
}

export interface CreateMessageParams {
  messages: SamplingMessage[]
  maxTokens: number
  systemPrompt?: string
  temperature?: number
  stopSequences?: string[]
  modelPreferences?: Record<string, unknown>
  includeContext?: 'none' | 'thisServer' | 'allServers'
  metadata?: Record<string, unknown>
  tools?: Record<string, unknown>[]
  toolChoice?: Record<string, unknown>
}

export interface ElicitFormParams {
  message: string
  requestedSchema: JsonSchema
}

export interface ElicitUrlParams {
  message: string
  url: string
  elicitationId: string
}

export interface ElicitResult {
  action: 'accept' | 'decline' | 'cancel'
  content?: Record<string, unknown>
}

export interface ClientRequestOptions {
  /** Overrides the server's default timeout for this one request (2025 sessions). */
  timeoutMs?: number
  /**
   * The name of this input in a 2026-07-28 `input_required` result (`inputRequests` key). Default:
   * its kind and position among the handler's asks (`elicit-1`, `sample-2`, `roots-3`).
   */
  key?: string
}

export interface HandlerContext {
  readonly principal: Principal
  /** Absent for session-less requests (2026-07-28 requests, the stateless mode). */
  readonly session?: Readonly<Pick<SessionState, 'id' | 'protocolVersion' | 'clientInfo' | 'clientCapabilities'>>
  /** From `initialize` in a session, from the request's `_meta` in 2026-07-28. */
  readonly clientInfo?: Implementation
  readonly clientCapabilities: ClientCapabilities
  readonly requestId: RequestId
  readonly transport: TransportKind
  /** Aborted when the client cancels the request or the session ends. */
  readonly signal: AbortSignal
  /** Report progress; a no-op unless the client sent a progress token. Values must increase. */
  progress(progress: number, total?: number, message?: string): Promise<void>
  /**
   * Send `notifications/message`, filtered by the session's `logging/setLevel`, or in 2026-07-28
   * by the request's `_meta` log level (none at all when the request names no level).
   */
  log(level: LogLevel, data: unknown, logger?: string): Promise<void>
  /**
   * `sampling/createMessage` to the client; needs the client's `sampling` capability. Without it:
   * in a session, a `ToolError` (the call ends `isError` unless the handler catches it); in
   * 2026-07-28, the request fails with -32021 naming the capability, whatever the handler does.
   * Check `clientCapabilities` first to do without.
   */
  sample(params: CreateMessageParams, opts?: ClientRequestOptions): Promise<Record<string, unknown>>
  /** Form-mode `elicitation/create`; needs the client's `elicitation` capability (as `sample`). */
  elicit(params: ElicitFormParams, opts?: ClientRequestOptions): Promise<ElicitResult>
  /** URL-mode `elicitation/create` (2025-11-25); needs `elicitation.url`. */
  elicitUrl(params: ElicitUrlParams, opts?: ClientRequestOptions): Promise<ElicitResult>
  /** `roots/list`; needs the client's `roots` capability. */
  listRoots(opts?: ClientRequestOptions): Promise<{ uri: string; name?: string }[]>
  /** Tell subscribers that a resource changed (`notifications/resources/updated`). */
  resourceUpdated(uri: string): Promise<void>
  /**
   * Drop the client's connection for this request while the work goes on (SSE polling): the
   * client resumes with Last-Event-ID and gets the result there. A no-op where the connection
   * is the session (WebSocket, legacy SSE).
   */
  closeStream(): void
}
