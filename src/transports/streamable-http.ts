/**
 * @module transports/streamable-http
 * Streamable HTTP (MCP 2025-03-26 … 2025-11-25) at one endpoint: POST carries client messages,
 * GET opens the session's standalone stream or resumes any stream by Last-Event-ID, DELETE ends
 * the session. A request is answered with JSON unless, while it runs, it sends something related
 * (progress, a log line, a server request): then the reply becomes an SSE stream.
 *
 * The same endpoint serves MCP 2026-07-28, routed per request: a POST that claims it (a protocol
 * version in `params._meta`, or a 2026-07-28-or-later MCP-Protocol-Version header) is served
 * without a session by `modern-http.ts`. Everything else — initialize, session traffic, posted
 * responses, batches — keeps the 2025 behaviour exactly.
 *
 * POST, GET and DELETE are mounted as Bun-native routes (see `routes()`), outside Elysia's
 * per-request context and hooks: this is the hot path, and the benchmark (BENCHMARKS.md) showed
 * the framework hooks costing more than the protocol work. OPTIONS and other methods go through
 * Elysia (`plugin()`).
 */
import { Elysia } from 'elysia'
import { claimsEnvelope } from '../core/envelope.ts'
import { ErrorCode } from '../core/errors.ts'
import { classify, failure, type Classified, type JsonRpcRequest } from '../core/jsonrpc.ts'
import type { Exchange } from '../core/mcp-server.ts'
import type { SessionState } from '../core/session.ts'
import { STANDALONE_STREAM, parseEventId } from '../core/streams.ts'
import type { Principal } from '../core/types.ts'
import { allowsBatches, namesModernVersion } from '../core/versions.ts'
import { acceptChecker, isJsonContentType, parseJsonBody, protocolVersionProblem, readBody, rpcErrorResponse } from './http-guard.ts'
import { ModernHttp } from './modern-http.ts'
import { meteredRoute, type NativeRoute, type RequestMeter } from './native-route.ts'
import { PostReplies, json } from './post-replies.ts'
import { openSseReply, type SseReplyOptions } from './sse-reply.ts'
import { StreamSlot, streamRefusalMessage } from './stream-limits.ts'
import type { TransportDeps } from './transport-deps.ts'

export interface StreamableHttpOptions extends TransportDeps {
  path: string
  sseRetryMs: number
  /** Bytes an SSE response may queue for a client that does not read; past them it is closed. */
  sseMaxBufferedBytes?: number
  /** Messages in one JSON-RPC batch (2025-03-26 sessions), at most. */
  maxBatchItems: number
  /**
   * Serve without sessions, like the SDK's `sessionIdGenerator: undefined`: initialize issues no
   * Mcp-Session-Id, every POST stands alone, GET and DELETE are 405, and tools cannot ask the
   * client anything (there is no session to carry the answer).
   */
  stateless?: boolean
  meter?: RequestMeter
}

const ALLOW = 'GET, POST, DELETE'
const ALLOW_STATELESS = 'POST'
const SESSION_HEADER = 'mcp-session-id'
const acceptsPostReplies = acceptChecker(['application/json', 'text/event-stream'])
const acceptsEventStream = acceptChecker(['text/event-stream'])

export class StreamableHttpTransport {
  readonly #o: StreamableHttpOptions
  readonly #reply: SseReplyOptions
  /** SSE responses open on this instance (GET streams, replies that became streams), for metrics. */
  #openStreams = 0
  #heldSessions = 0
  readonly #replies: PostReplies
  readonly #modern: ModernHttp

  constructor(opts: StreamableHttpOptions) {
    this.#o = opts
    this.#reply = {
      streams: opts.streams,
      keepAliveMs: opts.keepAliveMs,
      maxBufferedBytes: opts.sseMaxBufferedBytes,
      sseRetryMs: opts.sseRetryMs,
      revocations: opts.revocations,
      touch: (id) => void opts.core.touch(id).catch(() => {}),
      closed: (reply) => {
        this.#openStreams--
        // Without the hold, broadcasts (list_changed) would reach no Streamable HTTP session at all.
        if (!reply.standalone) return
        this.#heldSessions--
        opts.core.outbox.release(reply.sessionId)
      },
    }
    this.#replies = new PostReplies({
      core: opts.core,
      streams: opts.streams,
      keepAliveMs: opts.keepAliveMs,
      reply: this.#reply,
      streamOpened: () => void this.#openStreams++,
      streamClosed: () => void this.#openStreams--,
    })
    this.#modern = new ModernHttp({
      core: opts.core,
      replies: this.#replies,
      keepAliveMs: opts.keepAliveMs,
      revocations: opts.revocations,
      streamOpened: () => void this.#openStreams++,
      streamClosed: () => void this.#openStreams--,
    })
  }

  get openStreams(): number {
    return this.#openStreams
  }

  /** Sessions whose GET stream this instance holds (metrics: sessions with a connection here). */
  get heldSessions(): number {
    return this.#heldSessions
  }

  /** Bun-native routes for POST, GET and DELETE at `path` (mount them with Bun.serve's `routes`). */
  routes(): Record<string, Record<'POST' | 'GET' | 'DELETE', NativeRoute>> {
    const { path } = this.#o
    return {
      [path]: {
        POST: this.#metered('POST', (request, server) => this.post(request, () => server.timeout(request, 0))),
        GET: this.#metered('GET', (request, server) => this.get(request, () => server.timeout(request, 0))),
        DELETE: this.#metered('DELETE', (request) => this.delete(request)),
      },
    }
  }

  /** The Elysia plugin answering OPTIONS (CORS preflight) and 405 for other methods at `path`. */
  plugin() {
    const { path } = this.#o
    const allow = this.#o.stateless ? ALLOW_STATELESS : ALLOW
    return new Elysia({ name: 'mcp:streamable-http' })
      .options(path, ({ request }) => this.#o.guard.preflight(request, allow))
      .all(path, ({ request }) => this.#refuse(request))
  }

  #metered(method: string, handle: NativeRoute): NativeRoute {
    return meteredRoute(this.#o.path, method, handle, this.#o.meter)
  }

  #refuse(request: Request): Response {
    const denied = this.#o.guard.check(request)
    if (denied) return denied
    const allow = this.#o.stateless ? ALLOW_STATELESS : ALLOW
    const why = this.#o.stateless ? ' (this server is stateless: it has no streams or sessions to GET or DELETE)' : ''
    return rpcErrorResponse(405, ErrorCode.ConnectionClosed, `Method ${request.method} is not allowed on this endpoint; use ${allow}${why}`, { allow })
  }

  /** `disableIdleTimeout` is called when the reply becomes a stream. */
  async post(request: Request, disableIdleTimeout: () => void = () => {}): Promise<Response> {
    const admitted = this.#o.guard.admit(request)
    if (admitted instanceof Response) return admitted
    const cors = admitted
    if (!acceptsPostReplies(request))
      return rpcErrorResponse(406, ErrorCode.ConnectionClosed, 'Not Acceptable: the Accept header must list both application/json and text/event-stream', cors)
    if (!isJsonContentType(request))
      return rpcErrorResponse(415, ErrorCode.ConnectionClosed, 'Unsupported Media Type: Content-Type must be application/json', cors)
    let principal = this.#o.authenticate(request)
    if (principal instanceof Promise) principal = await principal
    if (principal instanceof Response) return principal
    const parsed = parseJsonBody(await readBody(request, this.#o.json.maxBytes), this.#o.json, cors)
    if (parsed instanceof Response) return parsed
    const isBatch = Array.isArray(parsed)
    if (isBatch && parsed.length > this.#o.maxBatchItems) {
      this.#o.refused?.({ kind: 'batch_refused', principal, clientAddress: this.#o.addressOf?.(request), transport: 'streamable-http', detail: `a batch of ${parsed.length} messages` })
      return rpcErrorResponse(400, ErrorCode.InvalidRequest, `Invalid Request: a batch of ${parsed.length} messages; send at most ${this.#o.maxBatchItems} per batch (MCPRAG_MAX_BATCH_ITEMS)`, cors)
    }
    const items = isBatch ? (parsed as unknown[]).map(classify) : [classify(parsed)]
    if (items.length === 0) return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: an empty batch', cors)
    for (const item of items) if (item.kind === 'invalid') return json(400, failure(item.id, item.error), cors)
    if (!isBatch) {
      // Era routing (2026-07-28 `versioning`): a request that claims the per-request era is served
      // by its rules, whatever else it says; a broken claim gets a 2026 error, never the 2025 path.
      const only = items[0]!
      if ((only.kind === 'request' || only.kind === 'notification') && (claimsEnvelope(only.message.params) || namesModernVersion(request.headers.get('mcp-protocol-version'))))
        return this.#modern.post(request, only.message, principal, cors, disableIdleTimeout)
    } else if (items.some((i) => (i.kind === 'request' || i.kind === 'notification') && claimsEnvelope(i.message.params))) {
      return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: JSON-RPC batches cannot carry 2026-07-28 requests; POST each request on its own', cors)
    }

    const initialize = items.find((i) => i.kind === 'request' && i.message.method === 'initialize') as
      | Extract<Classified, { kind: 'request' }>
      | undefined
    if (initialize) {
      if (isBatch) return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must be sent alone, not in a batch', cors)
      if (request.headers.has(SESSION_HEADER) && !this.#o.stateless)
        return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: initialize starts a new session; send it without Mcp-Session-Id', cors)
      return this.#initialize(initialize.message, principal, this.#o.addressOf?.(request), cors)
    }

    let session: SessionState | undefined
    if (this.#o.stateless) {
      const badVersion = protocolVersionProblem(request, cors)
      if (badVersion) return badVersion
      if (isBatch) return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: JSON-RPC batches are not supported; POST one message at a time', cors)
    } else {
      const found = await this.#session(request, principal, cors)
      if (found instanceof Response) return found
      session = found
      if (isBatch && !allowsBatches(session.protocolVersion))
        return rpcErrorResponse(400, ErrorCode.InvalidRequest, `Invalid Request: JSON-RPC batches are only part of protocol 2025-03-26; this session speaks ${session.protocolVersion}`, cors)
      if (isBatch && items.length > 1) {
        const overBudget = await this.#chargeBatch(request, principal, items.length - 1, cors)
        if (overBudget) return overBudget
      }
    }

    const { core } = this.#o
    let requests: JsonRpcRequest[] | undefined
    let exchange: Exchange | undefined
    for (const item of items) {
      if (item.kind === 'request') (requests ??= []).push(item.message)
      else {
        exchange ??= { session, principal, transport: 'streamable-http', send: () => {} }
        if (item.kind === 'notification') await core.handleNotification(item.message, exchange)
        else if (item.kind === 'response') await core.handleResponse(item.message, exchange)
      }
    }
    if (!requests) return new Response(null, { status: 202, headers: cors })
    return session
      ? this.#replies.inSession(requests, isBatch, session, principal, cors, disableIdleTimeout)
      : this.#replies.stateless(requests[0]!, principal, cors, disableIdleTimeout)
  }

  /** Every message of a batch counts against the request budget, like a request of its own. */
  async #chargeBatch(request: Request, principal: Principal, extra: number, cors: Readonly<Record<string, string>>): Promise<Response | undefined> {
    const { requestBudget, addressOf } = this.#o
    if (!requestBudget || !addressOf) return undefined
    const clientAddress = addressOf(request)
    const retryAfterS = await requestBudget(clientAddress, extra)
    if (retryAfterS === undefined) return undefined
    this.#o.refused?.({ kind: 'rate_limited', principal, clientAddress, transport: 'streamable-http', detail: `a batch of ${extra + 1} messages is past the request budget` })
    return rpcErrorResponse(429, ErrorCode.RateLimited, `Too many requests from this address (each message of a batch counts): try again in ${retryAfterS} s`, { ...cors, 'retry-after': String(retryAfterS) })
  }

  async #initialize(request: JsonRpcRequest, principal: Principal, clientAddress: string | undefined, cors: Readonly<Record<string, string>>): Promise<Response> {
    const createSession = !this.#o.stateless
    const { response, session } = await this.#o.core.initialize(request, { principal, transport: 'streamable-http', clientAddress, createSession })
    if (!session) return json(200, response, cors)
    return json(200, response, { ...cors, [SESSION_HEADER]: session.id })
  }

  /** Look up the session the request names, enforcing presence, ownership and the version header. */
  async #session(request: Request, principal: Principal, cors: Readonly<Record<string, string>>): Promise<SessionState | Response> {
    const id = request.headers.get(SESSION_HEADER)
    if (!id)
      return rpcErrorResponse(400, ErrorCode.ConnectionClosed, 'Bad Request: Mcp-Session-Id header is required (send initialize first to get one)', cors)
    const session = await this.#o.core.ownedSession(id, principal, 'streamable-http')
    if (!session) return rpcErrorResponse(404, ErrorCode.SessionNotFound, 'Session not found: it ended or expired; initialize a new session', cors)
    const badVersion = protocolVersionProblem(request, cors)
    if (badVersion) return badVersion
    return session
  }

  async get(request: Request, disableIdleTimeout: () => void): Promise<Response> {
    if (this.#o.stateless) return this.#refuse(request)
    const admitted = this.#o.guard.admit(request)
    if (admitted instanceof Response) return admitted
    const cors = admitted
    if (namesModernVersion(request.headers.get('mcp-protocol-version'))) return notInModernEra(request.method, cors)
    if (!acceptsEventStream(request))
      return rpcErrorResponse(406, ErrorCode.ConnectionClosed, 'Not Acceptable: the Accept header must list text/event-stream', cors)
    const principal = await this.#o.authenticate(request)
    if (principal instanceof Response) return principal
    const found = await this.#session(request, principal, cors)
    if (found instanceof Response) return found
    const session = found
    const lastEventId = request.headers.get('last-event-id')
    let streamId = STANDALONE_STREAM
    let afterSeq: number | 'live' = 'live'
    if (lastEventId !== null) {
      const at = parseEventId(lastEventId)
      if (!at) return unknownEvent(cors)
      streamId = at.streamId
      afterSeq = at.seq
    }
    const clientAddress = this.#o.addressOf?.(request)
    // The standalone stream's key is the session id itself: no string is made for the common case.
    const slot = this.#o.streamLimits?.open(principal.id, clientAddress, streamId === STANDALONE_STREAM ? session.id : `${session.id}/${streamId}`)
    if (slot !== undefined && !(slot instanceof StreamSlot)) {
      const message = streamRefusalMessage(slot)
      this.#o.refused?.({ kind: 'stream_refused', principal, clientAddress, transport: 'streamable-http', detail: message })
      return rpcErrorResponse(429, ErrorCode.RateLimited, message, cors)
    }
    // A second GET for a stream takes it over (the first connection closes), on any instance
    // alike: a client reconnecting through a proxy must not wait for its dead connection to time out.
    // The reply gives its place back when it closes, or at once when it never opens.
    const stream = await this.#follow(streamId, session, principal, afterSeq, cors, slot)
    if (!stream) return unknownEvent(cors)
    disableIdleTimeout()
    return stream
  }

  /**
   * The SSE response of a GET. Kept apart from `get` on purpose: closures made in `get` would keep
   * its whole scope, the Request and its headers included, alive for as long as the stream is open.
   */
  #follow(
    streamId: string,
    session: SessionState,
    principal: Principal,
    afterSeq: number | 'live',
    cors: Readonly<Record<string, string>>,
    slot: StreamSlot | undefined,
  ): Promise<Response | undefined> {
    const standalone = streamId === STANDALONE_STREAM
    if (standalone) {
      this.#heldSessions++
      this.#o.core.outbox.hold(session.id)
    }
    this.#openStreams++
    return openSseReply(this.#reply, {
      streamId,
      session,
      principal,
      afterSeq,
      headers: cors,
      // A resumed stream continues after the client's last id; only a fresh one is primed.
      prime: afterSeq === 'live',
      standalone,
      slot,
    })
  }

  async delete(request: Request): Promise<Response> {
    if (this.#o.stateless) return this.#refuse(request)
    const { guard, core } = this.#o
    const admitted = guard.admit(request)
    if (admitted instanceof Response) return admitted
    if (namesModernVersion(request.headers.get('mcp-protocol-version'))) return notInModernEra(request.method, admitted)
    const principal = await this.#o.authenticate(request)
    if (principal instanceof Response) return principal
    const found = await this.#session(request, principal, admitted)
    if (found instanceof Response) return found
    await core.endSession(found.id)
    return new Response(null, { status: 200, headers: admitted })
  }
}

/** 2026-07-28 has no GET stream and no session to DELETE (SM-01): 405, saying what replaces them. */
const notInModernEra = (method: string, cors: Readonly<Record<string, string>>) =>
  rpcErrorResponse(
    405,
    ErrorCode.ConnectionClosed,
    `Method ${method} is not part of MCP 2026-07-28: POST each request; for change notifications, POST subscriptions/listen`,
    { ...cors, allow: 'POST' },
  )

const unknownEvent = (cors: Readonly<Record<string, string>>) =>
  rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Bad Request: Last-Event-ID does not name an event of this session', cors)
