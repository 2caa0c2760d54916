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
import type { RequestEnvelope } from './envelope.ts'
import { ErrorCode, McpError, ToolError, missingCapability } from './errors.ts'
import type { InputRound } from './input-round.ts'
import { notification, type JsonRpcMessage, type Params, type RequestId } from './jsonrpc.ts'
import type { PendingRequests } from './outbound.ts'
import type { SessionState } from './session.ts'
import { LOG_LEVELS, type ClientCapabilities, type Implementation, type LogLevel, type Principal, type TransportKind } from './types.ts'

/** How a transport hands one message to the core and receives the messages related to it. */
export interface Exchange {
  /** Absent for session-less requests. */
  session?: SessionState
  /** A 2026-07-28 request: what it declares about its client (no session, no initialize). */
  envelope?: RequestEnvelope
  /** Aborts when the client gives up on the request (2026-07-28: it closed the response). */
  signal?: AbortSignal
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
  /** 2026-07-28 requests only: where ctx.sample/elicit/listRoots find answers or ask for them. */
  readonly #round: InputRound | undefined
  #lastProgress = -Infinity

  /** Made on first use: most calls finish without anyone asking for a signal. */
  #controller: AbortController | undefined
  #cancelled = false

  constructor(exchange: Exchange, requestId: RequestId, params: Params | undefined, deps: CallDeps, round?: InputRound) {
    this.#exchange = exchange
    this.#deps = deps
    this.principal = exchange.principal
    this.session = exchange.session
    this.clientCapabilities = exchange.envelope?.clientCapabilities ?? exchange.session?.clientCapabilities ?? {}
    this.requestId = requestId
    this.transport = exchange.transport
    this.#round = round
    const token = (params?._meta as Record<string, unknown> | undefined)?.progressToken
    this.#progressToken = typeof token === 'string' || typeof token === 'number' ? token : undefined
    exchange.signal?.addEventListener('abort', () => this.cancel(), { once: true })
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
    this.#round?.cancel()
  }

  get clientInfo(): Implementation | undefined {
    return this.#exchange.envelope ? this.#exchange.envelope.clientInfo : this.session?.clientInfo
  }

  /**
   * The handler's outcome. In a 2026-07-28 round it may instead reject with why the round stopped
   * (input needed from the client, a refusal, cancellation): the handler itself is abandoned.
   */
  settle<T>(outcome: T | Promise<T>): T | Promise<T> {
    return this.#round && outcome instanceof Promise ? this.#round.settle(outcome) : outcome
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
    const envelope = this.#exchange.envelope
    // 2026-07-28: a request that names no level gets no log lines (levels are per request, no setLevel).
    if (envelope && !envelope.logLevel) return
    const min = envelope ? envelope.logLevel : this.session?.logLevel
    if (min && levelRank(level) < levelRank(min)) return
    const params: Params = { level, data }
    if (logger !== undefined) params.logger = logger
    await this.send(notification('notifications/message', params))
  }

  sample(params: CreateMessageParams, opts?: ClientRequestOptions): Promise<Record<string, unknown>> {
    if (!this.clientCapabilities.sampling) return this.#refuse('The client did not declare the "sampling" capability', { sampling: {} })
    if (params.tools && !this.clientCapabilities.sampling.tools)
      return this.#refuse('The client did not declare the "sampling.tools" capability', { sampling: { tools: {} } })
    return this.#request('sampling/createMessage', params as unknown as Params, opts)
  }

  async elicit(params: ElicitFormParams, opts?: ClientRequestOptions): Promise<ElicitResult> {
    const cap = this.clientCapabilities.elicitation
    // `elicitation: {}` means form mode only (2025-06-18 clients); 2025-11-25 may name the modes.
    if (!cap || (cap.url && !cap.form))
      return this.#refuse('The client did not declare form-mode "elicitation" support', { elicitation: { form: {} } })
    const body: Params = { message: params.message, requestedSchema: params.requestedSchema }
    const version = this.#exchange.envelope?.protocolVersion ?? this.session?.protocolVersion
    if (version !== undefined && version >= '2025-11-25') body.mode = 'form'
    return (await this.#request('elicitation/create', body, opts)) as unknown as ElicitResult
  }

  async elicitUrl(params: ElicitUrlParams, opts?: ClientRequestOptions): Promise<ElicitResult> {
    if (!this.clientCapabilities.elicitation?.url)
      return this.#refuse('The client did not declare URL-mode elicitation ("elicitation.url")', { elicitation: { url: {} } })
    const body: Params = { mode: 'url', ...params }
    return (await this.#request('elicitation/create', body, opts)) as unknown as ElicitResult
  }

  async listRoots(opts?: ClientRequestOptions): Promise<{ uri: string; name?: string }[]> {
    if (!this.clientCapabilities.roots) return this.#refuse('The client did not declare the "roots" capability', { roots: {} })
    const result = await this.#request('roots/list', undefined, opts)
    return Array.isArray(result.roots) ? (result.roots as { uri: string; name?: string }[]) : []
  }

  resourceUpdated(uri: string): Promise<void> {
    return this.#deps.resourceUpdated(uri)
  }

  closeStream(): void {
    this.#exchange.closeStream?.()
  }

  /**
   * A capability the client did not declare. 2025 era: a tool error (`isError`) the handler may
   * catch. 2026-07-28: -32021 to the client, whatever the handler does with it (the spec's MUST).
   */
  #refuse(message: string, requiredCapabilities: ClientCapabilities): never | Promise<never> {
    if (!this.#exchange.envelope) throw new ToolError(message)
    const error = missingCapability(
      `${message} in _meta["io.modelcontextprotocol/clientCapabilities"], and serving this request needs it: declare it, or call something that does not ask the client`,
      requiredCapabilities,
    )
    if (this.#round) return this.#round.fail(error)
    throw error
  }

  /** Ask the client: a server request on this call's stream (2025 era), or an input of the round (2026-07-28). */
  #request(method: 'sampling/createMessage' | 'elicitation/create' | 'roots/list', params: Params | undefined, opts?: ClientRequestOptions): Promise<Record<string, unknown>> {
    if (!this.#exchange.envelope) return this.#serverRequest(method, params, opts)
    if (this.#round) return this.#round.ask(method, params, opts?.key)
    throw new McpError(ErrorCode.InternalError, `"${method}" can only be asked while serving tools/call, prompts/get or resources/read`)
  }

  /** Send a request to the client on this call's stream and wait for its answer. */
  async #serverRequest(method: string, params: Params | undefined, opts?: ClientRequestOptions): Promise<Record<string, unknown>> {
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
      // Best effort: a client that cannot be told will see its answer refused anyway.
      void Promise.resolve(this.#exchange.send(notification('notifications/cancelled', { requestId: id, reason }))).catch(() => {})
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
