/**
 * @module core/call
 * One incoming request being handled: the `HandlerContext` that handlers receive, plus the plumbing
 * behind it (related messages go out through the exchange the transport supplied).
 */
import type {
  ClientRequestOptions,
  CreateMessageParams,
  ElicitFormParams,
  ElicitResult,
  ElicitUrlParams,
  HandlerContext,
} from './context.ts'
import { ErrorCode, McpError, ToolError } from './errors.ts'
import { notification, type JsonRpcMessage, type Params, type RequestId } from './jsonrpc.ts'
import type { PendingRequests } from './outbound.ts'
import type { SessionState } from './session.ts'
import { LOG_LEVELS, type ClientCapabilities, type LogLevel, type Principal, type TransportKind } from './types.ts'

/** How a transport hands one message to the core and receives the messages related to it. */
export interface Exchange {
  /** Absent for session-less requests. */
  session?: SessionState
  principal: Principal
  transport: TransportKind
  /** Deliver a message related to the request being handled (progress, log, server request). */
  send(message: JsonRpcMessage): void | Promise<void>
  /**
   * Close the client's connection for this request without ending the request (SSE polling,
   * SEP-1699): the client reconnects with Last-Event-ID and receives the rest. Transports whose
   * connection is the session itself leave this out.
   */
  closeStream?(): void
}

/** What a Call needs from the server that created it. */
export interface CallDeps {
  pending: PendingRequests
  clientRequestTimeoutMs: number
  resourceUpdated(uri: string): Promise<void>
}

const levelRank = (l: LogLevel) => LOG_LEVELS.indexOf(l)

export class Call implements HandlerContext {
  readonly principal: Principal
  readonly session?: SessionState
  readonly clientCapabilities: ClientCapabilities
  readonly requestId: RequestId
  readonly transport: TransportKind
  readonly #exchange: Exchange
  readonly #deps: CallDeps
  readonly #progressToken: string | number | undefined
  #lastProgress = -Infinity

  /** Made on first use: most calls finish without anyone asking for a signal. */
  #controller: AbortController | undefined
  #cancelled = false

  constructor(exchange: Exchange, requestId: RequestId, params: Params | undefined, deps: CallDeps) {
    this.#exchange = exchange
    this.#deps = deps
    this.principal = exchange.principal
    this.session = exchange.session
    this.clientCapabilities = exchange.session?.clientCapabilities ?? {}
    this.requestId = requestId
    this.transport = exchange.transport
    const token = (params?._meta as Record<string, unknown> | undefined)?.progressToken
    this.#progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined
  }

  get signal(): AbortSignal {
    this.#controller ??= new AbortController()
    if (this.#cancelled && !this.#controller.signal.aborted) this.#controller.abort()
    return this.#controller.signal
  }

  /** True once the client cancelled the request or its session ended. */
  get cancelled(): boolean {
    return this.#cancelled
  }

  /** Stop the call: its signal aborts and its result will not be sent. */
  cancel(): void {
    if (this.#cancelled) return
    this.#cancelled = true
    this.#controller?.abort()
  }

  get clientInfo() {
    return this.session?.clientInfo
  }

  async send(message: JsonRpcMessage): Promise<void> {
    if (this.#cancelled) return
    await this.#exchange.send(message)
  }

  async progress(progress: number, total?: number, message?: string): Promise<void> {
    if (this.#progressToken === undefined) return
    // The spec requires strictly increasing values; a repeat would confuse client progress bars.
    if (!(progress > this.#lastProgress)) return
    this.#lastProgress = progress
    const params: Params = { progressToken: this.#progressToken, progress }
    if (total !== undefined) params.total = total
    if (message !== undefined) params.message = message
    await this.send(notification('notifications/progress', params))
  }

  async log(level: LogLevel, data: unknown, logger?: string): Promise<void> {
    const min = this.session?.logLevel
    if (min && levelRank(level) < levelRank(min)) return
    const params: Params = { level, data }
    if (logger !== undefined) params.logger = logger
    await this.send(notification('notifications/message', params))
  }

  sample(params: CreateMessageParams, opts?: ClientRequestOptions): Promise<Record<string, unknown>> {
    if (!this.clientCapabilities.sampling) throw new ToolError('The client did not declare the "sampling" capability')
    if (params.tools && !this.clientCapabilities.sampling.tools)
      throw new ToolError('The client did not declare the "sampling.tools" capability')
    return this.#request('sampling/createMessage', params as unknown as Params, opts)
  }

  async elicit(params: ElicitFormParams, opts?: ClientRequestOptions): Promise<ElicitResult> {
    const cap = this.clientCapabilities.elicitation
    // `elicitation: {}` means form mode only (2025-06-18 clients); 2025-11-25 may name the modes.
    if (!cap || (cap.url && !cap.form))
      throw new ToolError('The client did not declare form-mode "elicitation" support')
    const body: Params = { message: params.message, requestedSchema: params.requestedSchema }
    if (this.session && this.session.protocolVersion >= '2025-11-25') body.mode = 'form'
    return (await this.#request('elicitation/create', body, opts)) as unknown as ElicitResult
  }

  async elicitUrl(params: ElicitUrlParams, opts?: ClientRequestOptions): Promise<ElicitResult> {
    if (!this.clientCapabilities.elicitation?.url)
      throw new ToolError('The client did not declare URL-mode elicitation ("elicitation.url")')
    const body: Params = { mode: 'url', ...params }
    return (await this.#request('elicitation/create', body, opts)) as unknown as ElicitResult
  }

  async listRoots(opts?: ClientRequestOptions): Promise<{ uri: string; name?: string }[]> {
    if (!this.clientCapabilities.roots) throw new ToolError('The client did not declare the "roots" capability')
    const result = await this.#request('roots/list', undefined, opts)
    return Array.isArray(result.roots) ? (result.roots as { uri: string; name?: string }[]) : []
  }

  resourceUpdated(uri: string): Promise<void> {
    return this.#deps.resourceUpdated(uri)
  }

  closeStream(): void {
    this.#exchange.closeStream?.()
  }

  /** Send a request to the client on this call's stream and wait for its answer. */
  async #request(method: string, params: Params | undefined, opts?: ClientRequestOptions): Promise<Record<string, unknown>> {
    const session = this.session
    if (!session) throw new ToolError(`"${method}" needs a session: initialize first`)
    if (this.#cancelled) throw new McpError(ErrorCode.ConnectionClosed, 'The request was cancelled')
    const { pending } = this.#deps
    const id = pending.nextId()
    const answer = pending.wait(session.id, id)
    const timeoutMs = opts?.timeoutMs ?? this.#deps.clientRequestTimeoutMs
    const cancel = (reason: string, err: Error) => {
      if (!pending.fail(session.id, id, err)) return
      // Tell the client to stop working on it (cancellation utility).
      void this.#exchange.send(notification('notifications/cancelled', { requestId: id, reason }))
    }
    const timer = setTimeout(
      () => cancel('timeout', new McpError(ErrorCode.RequestTimeout, `The client did not answer ${method} within ${timeoutMs} ms`)),
      timeoutMs,
    )
    const onAbort = () => cancel('the originating request was cancelled', new McpError(ErrorCode.ConnectionClosed, 'The request was cancelled'))
    this.signal.addEventListener('abort', onAbort, { once: true })
    try {
      const request: JsonRpcMessage = params === undefined ? { jsonrpc: '2.0', id, method } : { jsonrpc: '2.0', id, method, params }
      await this.#exchange.send(request)
      return await answer
    } finally {
      clearTimeout(timer)
      this.signal.removeEventListener('abort', onAbort)
    }
  }
}
