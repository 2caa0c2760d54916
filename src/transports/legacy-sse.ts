/**
 * @module transports/legacy-sse
 * The 2024-11-05 HTTP+SSE transport, kept for clients that still speak it: `GET <stream>` opens an
 * SSE stream whose first event, `endpoint`, names where to POST (`<messages>?sessionId=…`); every
 * POST answers 202 and its reply, with everything related to it, travels on the stream as
 * `event: message`. The stream is the session: it is created when the stream opens and ended
 * when it closes. The same stream carries the session's unrelated notifications, so a plain SSE
 * consumer that skips `endpoint` reads one JSON event per server message.
 */
import { Elysia } from 'elysia'
import { ErrorCode } from '../core/errors.ts'
import { classify, failure, type Classified, type JsonRpcMessage, type JsonRpcRequest } from '../core/jsonrpc.ts'
import type { Exchange } from '../core/mcp-server.ts'
import type { SessionState } from '../core/session.ts'
import { STANDALONE_STREAM, type Attachment, type StreamSink } from '../core/streams.ts'
import type { Principal } from '../core/types.ts'
import { JSON_HEADERS } from '../lib/respond.ts'
import { isJsonContentType, parseJsonBody, protocolVersionProblem, readBody, rpcErrorResponse } from './http-guard.ts'
import { SseStream, type SseStreamOwner } from './sse-stream.ts'
import { StreamSlot, streamRefusalMessage } from './stream-limits.ts'
import type { TransportDeps } from './transport-deps.ts'

/** One place the transport is mounted: the stream's path and the path its endpoint event names. */
export interface LegacySseMount {
  stream: string
  messages: string
}

export interface LegacySseOptions extends TransportDeps {
  mounts: LegacySseMount[]
  /** `retry:` hint on the endpoint event: how soon an EventSource reconnects a dropped stream. */
  sseRetryMs: number
  /**
   * Bytes a stream may queue for a client that does not read; past them it is closed (and the
   * session with it). Nothing delivered is kept: this transport cannot resume.
   */
  sseMaxBufferedBytes?: number
}

export class LegacySseTransport {
  readonly #o: LegacySseOptions
  /** Sessions whose stream this instance holds; clean-up runs once per entry. */
  readonly #streams = new Set<string>()

  constructor(opts: LegacySseOptions) {
    this.#o = opts
  }

  /** Streams (one per session) open on this instance, for metrics. */
  get openStreams(): number {
    return this.#streams.size
  }

  /** The Elysia plugin mounting `GET <stream>` and `POST <messages>` for every mount. */
  plugin(disableIdleTimeout: (request: Request, server: { timeout(r: Request, s: number): void } | null) => void) {
    const { guard } = this.#o
    let app = new Elysia({ name: 'mcp:legacy-sse' })
    for (const { stream, messages } of this.#o.mounts) {
      app = app
        .get(stream, ({ request, server }) => this.open(request, messages, () => disableIdleTimeout(request, server)))
        .options(stream, ({ request }) => guard.preflight(request, 'GET'))
        .all(stream, ({ request }) => this.#refuse(request, 'GET'))
        .post(messages, ({ request }) => this.post(request), { parse: 'none' })
        .options(messages, ({ request }) => guard.preflight(request, 'POST'))
        .all(messages, ({ request }) => this.#refuse(request, 'POST'))
    }
    return app
  }

  #refuse(request: Request, allow: string): Response {
    const denied = this.#o.guard.check(request)
    if (denied) return denied
    return rpcErrorResponse(405, ErrorCode.ConnectionClosed, `Method ${request.method} is not allowed on this endpoint; use ${allow}`, { allow })
  }

  /** Open a stream: a new session, announced by the `endpoint` event, attached to its standalone stream. */
  async open(request: Request, messagesPath: string, disableIdleTimeout: () => void): Promise<Response> {
    const { guard, core } = this.#o
    const admitted = guard.admit(request)
    if (admitted instanceof Response) return admitted
    const cors = admitted
    const principal = await this.#o.authenticate(request)
    if (principal instanceof Response) return principal

    const clientAddress = this.#o.addressOf?.(request)
    const slot = this.#o.streamLimits?.open(principal.id, clientAddress)
    if (slot !== undefined && !(slot instanceof StreamSlot)) {
      const message = streamRefusalMessage(slot)
      this.#o.refused?.({ kind: 'stream_refused', principal, clientAddress, transport: 'sse', detail: message })
      return rpcErrorResponse(429, ErrorCode.RateLimited, message, cors)
    }
    // LS-07: an EventSource that lost its stream reconnects here and gets a new session, but the
    // SDK client does not initialize again. So the session is usable before `initialize`.
    let session: SessionState
    try {
      session = await core.openSession({ principal, transport: 'sse', clientAddress })
    } catch (err) {
      slot?.release()
      throw err
    }
    const stream = await this.#follow(session, principal, messagesPath, slot)
    disableIdleTimeout()
    return stream.response(cors)
  }

  /**
   * Attach a new stream to the session's standalone stream. Apart from `open` so that nothing
   * long-lived is created in a scope that holds the Request (closures keep their whole scope).
   */
  async #follow(session: SessionState, principal: Principal, messagesPath: string, slot: StreamSlot | undefined): Promise<SseStream> {
    const { streams, core } = this.#o
    const ref = { sessionId: session.id, streamId: STANDALONE_STREAM }
    // This transport cannot resume (a reconnect is a new session): delivered messages are not kept.
    await streams.open(ref, { ephemeral: true })
    core.outbox.hold(session.id)
    this.#streams.add(session.id)
    const follower = new LegacyStream(this, session.id)
    follower.slot = slot
    const sse = follower.sse
    // Every POST authenticates again, but the stream would go on receiving: a revoked auth
    // session (logout) closes it.
    if (this.#o.revocations && principal.authSessionId !== undefined) follower.untrack = this.#o.revocations.track(principal, follower.end.bind(follower))
    sse.event(`${messagesPath}?sessionId=${session.id}`, { event: 'endpoint', retryMs: this.#o.sseRetryMs })
    // The client learns where to POST only once this returns, after the attach: nothing written
    // to the session can come before it.
    follower.attachment = await streams.attach(ref, 'live', follower)
    if (sse.closed) follower.attachment?.detach()
    return sse
  }

  /** Called by a LegacyStream when its connection closed. */
  streamClosed(sessionId: string): void {
    void this.#end(sessionId)
  }

  /** Called by a LegacyStream on each keep-alive tick. */
  touch(sessionId: string): void {
    void this.#o.core.touch(sessionId).catch(() => {})
  }

  get keepAliveMs(): number {
    return this.#o.keepAliveMs
  }

  get sseMaxBufferedBytes(): number | undefined {
    return this.#o.sseMaxBufferedBytes
  }

  /** The stream closed: the session ends with it, and so does everything it was waiting for. */
  async #end(sessionId: string): Promise<void> {
    const { core } = this.#o
    if (!this.#streams.delete(sessionId)) return
    core.outbox.release(sessionId)
    try {
      await core.endSession(sessionId)
    } catch (err) {
      console.error(`[sse] clean-up of session ${sessionId} failed:`, err)
    }
  }

  /** One client message. The answer is always on the stream; the POST only says whether it was taken. */
  async post(request: Request): Promise<Response> {
    const admitted = this.#o.guard.admit(request)
    if (admitted instanceof Response) return admitted
    const cors = admitted
    if (!isJsonContentType(request))
      return rpcErrorResponse(415, ErrorCode.ConnectionClosed, 'Unsupported Media Type: Content-Type must be application/json', cors)
    const principal = await this.#o.authenticate(request)
    if (principal instanceof Response) return principal
    const found = await this.#session(request, principal, cors)
    if (found instanceof Response) return found
    const session = found
    const parsed = parseJsonBody(await readBody(request, this.#o.json.maxBytes), this.#o.json, cors)
    if (parsed instanceof Response) return parsed
    if (Array.isArray(parsed))
      return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: POST one JSON-RPC message at a time; batches are not supported on this transport', cors)
    const item = classify(parsed)
    if (item.kind === 'invalid') return new Response(JSON.stringify(failure(item.id, item.error)), { status: 400, headers: { ...JSON_HEADERS, ...cors } })

    const exchange: Exchange = { session, principal, transport: 'sse', send: (message) => this.#write(session.id, message) }
    await this.#dispatch(item, exchange)
    return new Response(null, { status: 202, headers: cors })
  }

  async #dispatch(item: Exclude<Classified, { kind: 'invalid' }>, exchange: Exchange): Promise<void> {
    const { core } = this.#o
    if (item.kind === 'notification') return core.handleNotification(item.message, exchange)
    if (item.kind === 'response') return core.handleResponse(item.message, exchange)
    // Requests run after the 202: a tool may wait for the client (sampling), whose answer comes
    // in on another POST, so this one must not hold the request open.
    void this.#run(item.message, exchange)
  }

  async #run(request: JsonRpcRequest, exchange: Exchange): Promise<void> {
    const { core } = this.#o
    const session = exchange.session!
    try {
      const response =
        request.method === 'initialize'
          ? (await core.initialize(request, { principal: exchange.principal, transport: 'sse', createSession: false, session })).response
          : await core.handleRequest(request, exchange)
      if (response) await this.#write(session.id, response)
    } catch (err) {
      console.error(`[sse] ${request.method} failed:`, err)
    }
  }

  /** Write to the session's stream, wherever its connection is held. */
  async #write(sessionId: string, message: JsonRpcMessage): Promise<void> {
    try {
      await this.#o.streams.write({ sessionId, streamId: STANDALONE_STREAM }, [message])
    } catch (err) {
      console.error(`[sse] writing to session ${sessionId} failed:`, err instanceof Error ? err.message : err)
    }
  }

  /** The session the query names, if it is a live legacy SSE session of this principal. */
  async #session(request: Request, principal: Principal, cors: Readonly<Record<string, string>>): Promise<SessionState | Response> {
    const id = new URL(request.url).searchParams.get('sessionId')
    if (!id)
      return rpcErrorResponse(400, ErrorCode.ConnectionClosed, 'Bad Request: the sessionId query parameter is required; POST to the URI of the stream\'s endpoint event', cors)
    const session = await this.#o.core.ownedSession(id, principal, 'sse')
    if (!session) return rpcErrorResponse(404, ErrorCode.SessionNotFound, 'Session not found: its stream closed or it expired; open a new stream', cors)
    const badVersion = protocolVersionProblem(request, cors)
    if (badVersion) return badVersion
    return session
  }
}

/**
 * One open legacy stream: the hub's sink and the SSE stream's owner, as one object rather than a
 * set of closures (idle streams are held by the thousand).
 */
class LegacyStream implements StreamSink, SseStreamOwner {
  readonly sse: SseStream
  attachment: Attachment | undefined
  untrack: (() => void) | undefined
  /** Its place in the stream limits, given back when it closes. */
  slot: StreamSlot | undefined
  readonly #transport: LegacySseTransport
  readonly #sessionId: string

  constructor(transport: LegacySseTransport, sessionId: string) {
    this.#transport = transport
    this.#sessionId = sessionId
    this.sse = new SseStream({ keepAliveMs: transport.keepAliveMs, maxBufferedBytes: transport.sseMaxBufferedBytes, owner: this })
  }

  event(_seq: number, message: JsonRpcMessage): void {
    this.sse.event(JSON.stringify(message), { event: 'message' })
  }
  end(): void {
    this.sse.close()
  }
  takenOver(): void {
    this.sse.close()
  }
  sseKeepAlive(): void {
    this.#transport.touch(this.#sessionId)
  }
  sseClosed(): void {
    this.attachment?.detach()
    this.untrack?.()
    this.slot?.release()
    this.#transport.streamClosed(this.#sessionId)
  }
}
