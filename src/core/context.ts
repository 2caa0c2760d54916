/**
 * @module core/context
 * What a tool, resource or prompt handler can see and do while it runs. Handlers never see a
 * transport, an HTTP request or a socket: they talk to the client only through this object.
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
  /** Overrides the server's default timeout for this one request. */
  timeoutMs?: number
}

export interface HandlerContext {
  readonly principal: Principal
  /** Absent for session-less requests. */
  readonly session?: Readonly<Pick<SessionState, 'id' | 'protocolVersion' | 'clientInfo' | 'clientCapabilities'>>
  readonly clientInfo?: Implementation
  readonly clientCapabilities: ClientCapabilities
  readonly requestId: RequestId
  readonly transport: TransportKind
  /** Aborted when the client cancels the request or the session ends. */
  readonly signal: AbortSignal
  /** Report progress; a no-op unless the client sent a progress token. Values must increase. */
  progress(progress: number, total?: number, message?: string): Promise<void>
  /** Send `notifications/message`, filtered by the session's `logging/setLevel`. */
  log(level: LogLevel, data: unknown, logger?: string): Promise<void>
  /** `sampling/createMessage` to the client; needs the client's `sampling` capability. */
  sample(params: CreateMessageParams, opts?: ClientRequestOptions): Promise<Record<string, unknown>>
  /** Form-mode `elicitation/create`; needs the client's `elicitation` capability. */
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
