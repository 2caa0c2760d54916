/**
 * @module core/mcp-server
 * The protocol core: lifecycle, dispatch, cancellation and server-to-client requests. It knows no
 * transport, framework, runtime or database; transports hand it messages through an `Exchange`
 * and it returns responses as values. Both protocol eras meet here: 2025 sessions (`initialize`,
 * `handleRequest`) and 2026-07-28 requests that stand alone (`handleModernRequest`,
 * `subscriptions`), served from the same registry, access policy and observers.
 */
import type { Bus, Unsubscribe } from './bus.ts'
import { Call, type CallDeps, type Exchange } from './call.ts'
import { Paginator } from './cursor.ts'
import { ErrorCode, McpError, STORE_RETRY_AFTER_S, StoreUnavailable, clip, invalidParams, methodNotFound } from './errors.ts'
import {
  failure,
  notification,
  success,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type Params,
  type RequestId,
} from './jsonrpc.ts'
import type { MethodDeps } from './methods/method.ts'
import { METHODS } from './methods/table.ts'
import { runTool, type ToolOutcome } from './methods/tools.ts'
import { ModernRequests } from './modern-requests.ts'
import { PendingRequests } from './outbound.ts'
import { SessionOutbox } from './outbox.ts'
import { allowAll, type ToolAccess, type ToolCallObserver } from './ports.ts'
import type { Registry, RegisteredTool } from './registry.ts'
import { RequestStateSealer } from './request-state.ts'
import type { SessionLimits, SessionStore } from './session-store.ts'
import type { SessionState } from './session.ts'
import type { Streams } from './streams.ts'
import { Subscriptions } from './subscriptions.ts'
import { CANCEL, RESOURCE_UPDATED, SESSION_ENDED, instanceInbox } from './topics.ts'
import { isLogLevel, type ClientCapabilities, type Implementation, type Principal, type TransportKind } from './types.ts'
import { DEFAULT_NEGOTIATED_VERSION, negotiateVersion } from './versions.ts'

export type { Exchange, ToolOutcome }

export interface McpServerOptions {
  info: Implementation
  instructions?: string
  registry: Registry
  sessions: SessionStore
  streams: Streams
  bus: Bus
  /** Identifies this process among instances sharing a bus. */
  instanceId: string
  /**
   * The server secret (MCPRAG_SECRET): signs pagination cursors and, through a key derived from
   * it, seals 2026-07-28 `requestState`. Instances serving the same clients must share it.
   */
  cursorSecret: string
  pageSize?: number
  clientRequestTimeoutMs?: number
  /** How long a 2026-07-28 `requestState` may be echoed back (default 10 minutes). */
  requestStateTtlMs?: number
  access?: ToolAccess
  observers?: ToolCallObserver[]
  now?: () => number
  newSessionId?: () => string
  /** Live sessions per principal and per client address; past either, the least recently used ends. */
  sessionLimits?: SessionLimits
  /** Largest `capabilities` plus `clientInfo` of an `initialize`, as JSON, that a session keeps. */
  maxClientInfoBytes?: number
  /** Told how many sessions a new one pushed out (metrics). */
  onSessionsEvicted?: (count: number) => void
  /**
   * Told when a request names a live session that is not the caller's (another user's, another
   * sign-in's, another transport's): a probing signal for the audit log. Must not throw.
   */
  onSessionDenied?: (e: { principal: Principal; transport: TransportKind; reason: SessionDenial }) => void
}

/** Why a live session was refused to a caller (never told to the caller: it sees 404 either way). */
export type SessionDenial = 'another_user' | 'another_sign_in' | 'another_transport'

/** 256 random bits, base64url: an id nobody guesses (a UUID has 122), and URL-safe for legacy SSE. */
export function newSessionId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32))
  return btoa(String.fromCharCode(...bytes)).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '')
}

/** Who opens a session: the caller, the transport it came in on, and from where. */
export interface SessionOrigin {
  principal: Principal
  transport: TransportKind
  /** The client address (per-address session limits); absent when unknown. */
  clientAddress?: string
}

const inflightKey = (sessionId: string | undefined, id: RequestId) => `${sessionId ?? ''}\u0000${typeof id}:${id}`

export class McpServer {
  readonly registry: Registry
  readonly info: Implementation
  readonly #opts: McpServerOptions
  readonly #deps: MethodDeps
  readonly #pending: PendingRequests
  readonly #inflight = new Map<string, Call>()
  /** Numbers the in-flight entries of session-less requests. */
  #sessionless = 0
  #restCalls = 0
  readonly #now: () => number
  readonly #unsubscribes: Unsubscribe[] = []
  readonly #capabilities: Params
  readonly #callDeps: CallDeps
  /** Where messages that belong to no request go; transports tell it which sessions they hold. */
  readonly outbox: SessionOutbox
  /** 2026-07-28 `subscriptions/listen` streams held by this instance (fed by the bus). */
  readonly subscriptions: Subscriptions
  readonly #modern: ModernRequests

  constructor(opts: McpServerOptions) {
    this.#opts = opts
    this.registry = opts.registry
    this.info = opts.info
    this.#now = opts.now ?? Date.now
    this.#pending = new PendingRequests(opts.instanceId)
    this.outbox = new SessionOutbox(opts.streams, opts.bus)
    this.#deps = {
      registry: opts.registry,
      paginator: new Paginator(opts.cursorSecret, opts.pageSize ?? 100),
      sessions: opts.sessions,
      access: opts.access ?? allowAll,
      observers: opts.observers ?? [],
      now: this.#now,
    }
    this.#callDeps = {
      pending: this.#pending,
      clientRequestTimeoutMs: opts.clientRequestTimeoutMs ?? 60_000,
      resourceUpdated: (uri) => this.resourceUpdated(uri),
    }
    this.#capabilities = {
      tools: { listChanged: true },
      resources: { subscribe: true, listChanged: true },
      prompts: { listChanged: true },
      logging: {},
      completions: {},
    }
    this.#modern = new ModernRequests({
      info: opts.info,
      instructions: opts.instructions,
      capabilities: this.#capabilities,
      methods: this.#deps,
      calls: this.#callDeps,
      sealer: new RequestStateSealer(opts.cursorSecret),
      requestStateTtlMs: opts.requestStateTtlMs ?? 600_000,
      now: this.#now,
    })
    this.subscriptions = new Subscriptions({ bus: opts.bus, registry: opts.registry, info: opts.info })
    // Tools, resources and prompts are registered at boot on every instance alike; a change
    // announced here reaches the sessions every instance holds.
    opts.registry.onChange((kind) => {
      this.outbox.broadcast(notification(`notifications/${kind}/list_changed`)).catch((err: unknown) =>
        console.error(`[core] announcing that the ${kind} changed failed:`, err instanceof Error ? err.message : err),
      )
    })
  }

  /** Join the bus: replies, cancellations and session ends that reached another instance come here. */
  async start(): Promise<void> {
    const { bus, instanceId, sessions } = this.#opts
    this.#unsubscribes.push(
      await bus.subscribe(instanceInbox(instanceId), ({ sessionId, response }) => {
        if (response.id === null || !this.#pending.settle(sessionId, response)) return
        // Settled from the wake-up: the kept copy is no longer needed.
        void sessions.takeReply(sessionId, response.id).catch(() => {})
      }),
      await bus.subscribe(CANCEL, ({ sessionId, requestId }) => {
        this.#inflight.get(inflightKey(sessionId, requestId))?.cancel()
      }),
      await bus.subscribe(SESSION_ENDED, ({ sessionId }) => this.#endLocally(sessionId)),
      // Wake-ups published while the bus was away are lost: collect the kept replies instead.
      bus.onReconnect(() => void this.#collectReplies()),
    )
    await this.outbox.start()
    await this.subscriptions.start()
  }

  async close(): Promise<void> {
    for (const u of this.#unsubscribes.splice(0)) u()
    this.outbox.close()
    this.subscriptions.close()
    for (const c of this.#inflight.values()) c.cancel()
    this.#inflight.clear()
    this.#modern.cancelAll()
  }

  /** Requests running now on this instance, on any transport and in either era (shutdown waits for them). */
  get inFlight(): number {
    return this.#inflight.size + this.#modern.inFlight
  }

  get capabilities(): Params {
    return this.#capabilities
  }

  /**
   * Handle `initialize`: negotiate the version and, when `createSession` is set, create the session
   * that later requests will name. With `session` (one `openSession` made), negotiate into that
   * session instead, until the client has confirmed with `notifications/initialized`. Returns the
   * response to send.
   */
  async initialize(
    request: JsonRpcRequest,
    from: SessionOrigin & { createSession: boolean; session?: SessionState },
  ): Promise<{ response: JsonRpcResponse; session?: SessionState }> {
    const p = request.params ?? {}
    const problem = initializeProblem(p, this.#opts.maxClientInfoBytes ?? Infinity)
    if (problem) return { response: failure(request.id, invalidParams(problem).toJson()) }
    if (from.session?.initialized)
      return { response: failure(request.id, { code: ErrorCode.InvalidRequest, message: 'The session is already initialized; initialize once per session' }) }
    const protocolVersion = negotiateVersion(p.protocolVersion)
    const result: Params = { protocolVersion, capabilities: this.#capabilities, serverInfo: this.info }
    if (this.#opts.instructions) result.instructions = this.#opts.instructions
    let session: SessionState | undefined
    if (from.session) {
      session = from.session
      const patch = { protocolVersion, clientInfo: p.clientInfo as Implementation, clientCapabilities: p.capabilities as ClientCapabilities }
      Object.assign(session, patch)
      await this.#opts.sessions.update(session.id, patch)
    } else if (from.createSession) {
      session = this.#newSession(from, protocolVersion, p.clientInfo as Implementation, p.capabilities as ClientCapabilities)
      await this.#store(session)
    }
    return { response: success(request.id, result), session }
  }

  #newSession(from: SessionOrigin, protocolVersion: string, clientInfo: Implementation, clientCapabilities: ClientCapabilities): SessionState {
    const session: SessionState = {
      id: this.#opts.newSessionId?.() ?? newSessionId(),
      protocolVersion,
      clientInfo,
      clientCapabilities,
      initialized: false,
      ownerId: from.principal.id,
      transport: from.transport,
      createdAt: this.#now(),
    }
    if (from.principal.authSessionId !== undefined) session.authSessionId = from.principal.authSessionId
    if (from.clientAddress !== undefined) session.clientAddress = from.clientAddress
    return session
  }

  /** Store a new session within the limits; the sessions it pushes out end like any other. */
  async #store(session: SessionState): Promise<void> {
    const evicted = await this.#opts.sessions.create(session, this.#opts.sessionLimits)
    if (evicted.length === 0) return
    this.#opts.onSessionsEvicted?.(evicted.length)
    await Promise.all(evicted.map((id) => this.endSession(id)))
  }

  /**
   * Open a session before any handshake, for transports whose connection is the session and that
   * must hand out its id first (legacy HTTP+SSE). It is usable at once, speaking the default
   * negotiated version with no client capabilities, so a client that reconnects and never
   * re-initializes keeps working (without sampling, elicitation or roots until it does).
   */
  async openSession(from: SessionOrigin): Promise<SessionState> {
    const session = this.#newSession(from, DEFAULT_NEGOTIATED_VERSION, { name: 'unknown', version: 'unknown' }, {})
    await this.#store(session)
    return session
  }

  /**
   * Handle one request. Returns the response, or undefined when the client cancelled it
   * (cancelled requests get no response).
   */
  async handleRequest(request: JsonRpcRequest, exchange: Exchange): Promise<JsonRpcResponse | undefined> {
    const { id, method } = request
    if (method === 'initialize')
      return failure(id, { code: ErrorCode.InvalidRequest, message: 'The session is already initialized; initialize once per session' })
    if (method === 'ping') return success(id, {})
    if (method === 'logging/setLevel') return this.#setLevel(request, exchange)
    const impl = METHODS.get(method)
    if (!impl) return failure(id, methodNotFound(method).toJson())

    // A request without a session cannot be cancelled by id (no notification can name it) and its
    // ids are the client's alone (REST always sends 1): a key of its own, so none hides another.
    const key = exchange.session ? inflightKey(exchange.session.id, id) : `\u0000#${++this.#sessionless}`
    const call = new Call(exchange, id, request.params, this.#callDeps)
    this.#inflight.set(key, call)
    try {
      const result = await impl(request.params ?? {}, call, this.#deps)
      if (call.cancelled || result === undefined) return undefined
      return success(id, result)
    } catch (err) {
      if (call.cancelled) return undefined
      if (err instanceof McpError) return failure(id, err.toJson())
      // Fail closed (admin tools, subscriptions) and say when to retry.
      if (err instanceof StoreUnavailable)
        return failure(id, { code: ErrorCode.InternalError, message: `${err.message}: retry in ${STORE_RETRY_AFTER_S} s`, data: { retry_after_s: STORE_RETRY_AFTER_S } })
      console.error(`[core] ${method} failed:`, err)
      return failure(id, { code: ErrorCode.InternalError, message: `Internal error while handling ${method}` })
    } finally {
      this.#inflight.delete(key)
    }
  }

  /**
   * Handle one 2026-07-28 request: `exchange.envelope` holds its validated `_meta`, and there is no
   * session. Returns the response, or undefined when the client cancelled it (closed its stream).
   */
  handleModernRequest(request: JsonRpcRequest, exchange: Exchange): Promise<JsonRpcResponse | undefined> {
    return this.#modern.handle(request, exchange)
  }

  /**
   * Call a tool outside JSON-RPC (REST): the same access checks, validation (once), observers
   * and cancellation on shutdown as `tools/call`, answered with the typed outcome for the caller
   * to encode, instead of a JSON-RPC response to take apart.
   */
  async callTool(tool: RegisteredTool, args: Record<string, unknown>, exchange: Exchange): Promise<ToolOutcome> {
    // A key no JSON-RPC request can have (those hold a type name): concurrent calls never collide.
    const requestId = `rest-${++this.#restCalls}`
    const key = `\u0000${requestId}`
    const call = new Call(exchange, requestId, undefined, this.#callDeps)
    this.#inflight.set(key, call)
    try {
      return await runTool(tool, args, call, this.#deps)
    } finally {
      this.#inflight.delete(key)
    }
  }

  /** Handle a client notification. Unknown notifications are ignored, as JSON-RPC requires. */
  async handleNotification(n: JsonRpcNotification, exchange: Exchange): Promise<void> {
    const session = exchange.session
    switch (n.method) {
      case 'notifications/initialized':
        if (session && !session.initialized) {
          session.initialized = true
          await this.#opts.sessions.update(session.id, { initialized: true })
        }
        return
      case 'notifications/cancelled': {
        const requestId = n.params?.requestId
        if (typeof requestId !== 'string' && typeof requestId !== 'number') return
        const local = this.#inflight.get(inflightKey(session?.id, requestId))
        if (local) local.cancel()
        else if (session) await this.#opts.bus.publish(CANCEL, { sessionId: session.id, requestId })
        return
      }
      default:
        return
    }
  }

  /**
   * Handle the client's answer to one of our requests, wherever it was issued: the instance that
   * asked may be another one (its id is in the request id). The answer is kept in the session
   * store first and then announced, so a lost announcement delays it instead of losing it.
   */
  async handleResponse(response: JsonRpcResponse, exchange: Exchange): Promise<void> {
    const session = exchange.session
    if (!session || response.id === null) return
    if (this.#pending.settle(session.id, response)) return
    const owner = PendingRequests.instanceOf(response.id)
    if (!owner || owner === this.#opts.instanceId) return
    await this.#opts.sessions.putReply(session.id, response.id, response, this.#callDeps.clientRequestTimeoutMs)
    await this.#opts.bus.publish(instanceInbox(owner), { sessionId: session.id, response })
  }

  /**
   * The session `id` names, if it is live, belongs to `principal` (and to the auth session that
   * opened it, when one did) and was opened on `transport`; its idle deadline moves on. Anything
   * else is undefined, reported alike by every transport (404): session ids are not credentials,
   * a session outlives no logout, and an id of one transport means nothing on another.
   */
  async ownedSession(id: string, principal: Principal, transport: TransportKind): Promise<SessionState | undefined> {
    const session = await this.#opts.sessions.get(id, { touch: true })
    if (!session) return undefined
    const denial: SessionDenial | undefined =
      session.ownerId !== principal.id
        ? 'another_user'
        : session.authSessionId !== undefined && session.authSessionId !== principal.authSessionId
          ? 'another_sign_in'
          : session.transport !== transport
            ? 'another_transport'
            : undefined
    if (denial === undefined) return session
    this.#opts.onSessionDenied?.({ principal, transport, reason: denial })
    return undefined
  }

  /**
   * End every session opened under an auth session that was revoked (logout, an operator's
   * revocation), on every instance. Idempotent: called by each instance that hears of it.
   */
  async endAuthSession(authSessionId: string): Promise<void> {
    const ids = await this.#opts.sessions.deleteByAuthSession(authSessionId)
    await Promise.all(ids.map((id) => this.endSession(id)))
  }

  /** Keep a session from idling out (an open stream's or socket's keep-alive tick). */
  async touch(sessionId: string): Promise<void> {
    await this.#opts.sessions.touch(sessionId)
  }

  /**
   * End a session, wherever it ran: cancel its work and fail what it waits for (here and, through
   * the bus, on every instance), end its streams (their connections close) and forget it.
   * Idempotent: every transport calls it when its connection or the client ends the session.
   */
  async endSession(sessionId: string): Promise<boolean> {
    this.#endLocally(sessionId)
    const existed = await this.#opts.sessions.delete(sessionId)
    await this.#opts.streams.dropSession(sessionId)
    await this.#opts.bus.publish(SESSION_ENDED, { sessionId })
    return existed
  }

  #endLocally(sessionId: string): void {
    const prefix = `${sessionId}\u0000`
    for (const [key, c] of this.#inflight) if (key.startsWith(prefix)) c.cancel()
    this.#pending.failSession(sessionId)
  }

  async #collectReplies(): Promise<void> {
    for (const { sessionId, id } of this.#pending.waiting()) {
      try {
        const response = await this.#opts.sessions.takeReply(sessionId, id)
        if (response) this.#pending.settle(sessionId, response)
      } catch (err) {
        console.error('[core] collecting a kept reply failed:', err instanceof Error ? err.message : err)
      }
    }
  }

  /**
   * Send `notifications/resources/updated` to every session subscribed to `uri`, and (through the
   * bus) to every 2026-07-28 listen stream that asked for it, on any instance.
   */
  async resourceUpdated(uri: string): Promise<void> {
    const ids = await this.#opts.sessions.subscribers(uri)
    const message = notification('notifications/resources/updated', { uri })
    await Promise.all([...ids.map((id) => this.outbox.toSession(id, message)), this.#opts.bus.publish(RESOURCE_UPDATED, { uri })])
  }

  /** Send a message that belongs to no request to one session. */
  async notifySession(sessionId: string, method: string, params?: Params): Promise<void> {
    await this.outbox.toSession(sessionId, notification(method, params))
  }

  async #setLevel(request: JsonRpcRequest, exchange: Exchange): Promise<JsonRpcResponse> {
    const level = request.params?.level
    if (!isLogLevel(level))
      return failure(request.id, invalidParams(`Invalid log level "${clip(String(level))}": use one of debug, info, notice, warning, error, critical, alert, emergency`).toJson())
    const session = exchange.session
    if (!session) return failure(request.id, invalidParams('logging/setLevel needs a session: initialize first').toJson())
    session.logLevel = level
    await this.#opts.sessions.update(session.id, { logLevel: level })
    return success(request.id, {})
  }
}

function initializeProblem(p: Params, maxClientInfoBytes: number): string | undefined {
  if (typeof p.protocolVersion !== 'string') return 'initialize: "protocolVersion" must be a string such as "2025-11-25"'
  if (typeof p.capabilities !== 'object' || p.capabilities === null || Array.isArray(p.capabilities))
    return 'initialize: "capabilities" must be an object'
  const info = p.clientInfo as Record<string, unknown> | undefined
  if (typeof info !== 'object' || info === null || typeof info.name !== 'string' || typeof info.version !== 'string')
    return 'initialize: "clientInfo" must be an object with string "name" and "version"'
  // The session keeps both for its whole life: their size is the server's to bound, not the client's.
  const size = jsonBytes(p.capabilities, maxClientInfoBytes) + jsonBytes(info, maxClientInfoBytes)
  if (size > maxClientInfoBytes)
    return `initialize: "capabilities" and "clientInfo" together are ${size} bytes as JSON; a session keeps at most ${maxClientInfoBytes}: send only the capabilities the client has`
  return undefined
}

/** The UTF-8 length of a value as JSON, or its (smaller) UTF-16 length once that alone is past `max`. */
function jsonBytes(value: unknown, max: number): number {
  const text = JSON.stringify(value) ?? ''
  // UTF-8 is never shorter than UTF-16: past the limit in characters is past it in bytes, unencoded.
  return text.length > max ? text.length : new TextEncoder().encode(text).length
}
