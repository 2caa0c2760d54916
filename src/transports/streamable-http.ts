/**
 * @module transports/streamable-http
 * Streamable HTTP (MCP 2025-03-26 … 2025-11-25) at one endpoint: POST carries client messages,
 * GET opens the session's standalone stream or resumes any stream by Last-Event-ID, DELETE ends
 * the session. A request is answered with JSON unless, while it runs, it sends something related
 * (progress, a log line, a server request): then the reply becomes an SSE stream.
 */
import { Elysia } from 'elysia'
import type { Exchange, McpServer } from '../core/mcp-server.ts'
import { ErrorCode } from '../core/errors.ts'
import { classify, failure, type Classified, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../core/jsonrpc.ts'
import type { SessionState } from '../core/session.ts'
import type { Principal } from '../core/types.ts'
import { isSupportedVersion, versionAtLeast } from '../core/versions.ts'
import type { SessionStore } from '../store/session-store.ts'
import type { Authenticate } from './authenticate.ts'
import { acceptsAll, isJsonContentType, readBody, rpcErrorResponse, type HttpGuard } from './http-guard.ts'
import { SseStream } from './sse-stream.ts'
import type { SessionOutbox } from './session-outbox.ts'
import type { RevocationWatcher } from './revocation-watcher.ts'
import { formatEventId, parseEventId, standaloneStreamId, type StreamHub } from './stream-hub.ts'

export interface StreamableHttpOptions {
  path: string
  core: McpServer
  sessions: SessionStore
  hub: StreamHub
  /** Told which sessions' GET streams this instance holds, so broadcasts (list_changed) reach them. */
  outbox: Pick<SessionOutbox, 'hold' | 'release'>
  guard: HttpGuard
  authenticate: Authenticate
  maxBodyBytes: number
  keepAliveMs: number
  sseRetryMs: number
  /** Closes the open streams of an auth session when it is revoked (logout). */
  revocations?: Pick<RevocationWatcher, 'track'>
}

const ALLOW = 'GET, POST, DELETE'
const SESSION_HEADER = 'mcp-session-id'
const JSON_HEADERS = { 'content-type': 'application/json' }

/** Lets a stream outlive Bun's idle timeout (10 s by default); keep-alive comments do the rest. */
export type DisableIdleTimeout = (request: Request) => void

export class StreamableHttpTransport {
  readonly #o: StreamableHttpOptions
  /** Sessions whose standalone GET stream is held by this instance (a second one is 409). */
  readonly #standalone = new Set<string>()
  /** SSE responses open on this instance (GET streams, replies that became streams), for metrics. */
  #openStreams = 0

  constructor(opts: StreamableHttpOptions) {
    this.#o = opts
  }

  get openStreams(): number {
    return this.#openStreams
  }

  /** The Elysia plugin mounting POST, GET, DELETE and the 405/CORS answers at `path`. */
  plugin(disableIdleTimeout: (request: Request, server: { timeout(r: Request, s: number): void } | null) => void) {
    const { path } = this.#o
    return new Elysia({ name: 'mcp:streamable-http' })
      .post(path, ({ request }) => this.post(request), { parse: 'none' })
      .get(path, ({ request, server }) => this.get(request, () => disableIdleTimeout(request, server)))
      .delete(path, ({ request }) => this.delete(request), { parse: 'none' })
      .options(path, ({ request }) => this.#o.guard.preflight(request, ALLOW))
      .all(path, ({ request }) => this.#refuse(request))
  }

  #refuse(request: Request): Response {
    const denied = this.#o.guard.check(request)
    if (denied) return denied
    return rpcErrorResponse(405, ErrorCode.ConnectionClosed, `Method ${request.method} is not allowed on this endpoint; use ${ALLOW}`, {
      allow: ALLOW,
    })
  }

  async post(request: Request): Promise<Response> {
    const { guard } = this.#o
    const denied = guard.check(request)
    if (denied) return denied
    const cors = guard.cors(request)
    if (!acceptsAll(request, ['application/json', 'text/event-stream']))
      return rpcErrorResponse(406, ErrorCode.ConnectionClosed, 'Not Acceptable: the Accept header must list both application/json and text/event-stream', cors)
    if (!isJsonContentType(request))
      return rpcErrorResponse(415, ErrorCode.ConnectionClosed, 'Unsupported Media Type: Content-Type must be application/json', cors)
    const principal = await this.#o.authenticate(request)
    if (principal instanceof Response) return principal
    const body = await readBody(request, this.#o.maxBodyBytes)
    if ('tooLarge' in body)
      return rpcErrorResponse(413, ErrorCode.InvalidRequest, `Payload Too Large: the body exceeds ${this.#o.maxBodyBytes} bytes`, cors)
    let parsed: unknown
    try {
      parsed = JSON.parse(body.text)
    } catch (err) {
      return rpcErrorResponse(400, ErrorCode.ParseError, `Parse error: the body is not valid JSON (${(err as Error).message})`, cors)
    }
    const isBatch = Array.isArray(parsed)
    const items = isBatch ? (parsed as unknown[]).map(classify) : [classify(parsed)]
    if (items.length === 0) return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: an empty batch', cors)
    const bad = items.find((i): i is Extract<Classified, { kind: 'invalid' }> => i.kind === 'invalid')
    if (bad) return json(400, failure(bad.id, bad.error), cors)

    const initialize = items.find((i) => i.kind === 'request' && i.message.method === 'initialize') as
      | Extract<Classified, { kind: 'request' }>
      | undefined
    if (initialize) {
      if (isBatch) return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: initialize must be sent alone, not in a batch', cors)
      if (request.headers.has(SESSION_HEADER))
        return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Invalid Request: initialize starts a new session; send it without Mcp-Session-Id', cors)
      return this.#initialize(initialize.message, principal, cors)
    }

    const found = await this.#session(request, principal, cors)
    if (found instanceof Response) return found
    const session = found
    if (isBatch && session.protocolVersion !== '2025-03-26')
      return rpcErrorResponse(400, ErrorCode.InvalidRequest, `Invalid Request: JSON-RPC batches are only part of protocol 2025-03-26; this session speaks ${session.protocolVersion}`, cors)

    const requests: JsonRpcRequest[] = []
    const exchange: Exchange = { session, principal, transport: 'streamable-http', send: () => {} }
    for (const item of items) {
      if (item.kind === 'request') requests.push(item.message)
      else if (item.kind === 'notification') await this.#o.core.handleNotification(item.message, exchange)
      else if (item.kind === 'response') await this.#o.core.handleResponse(item.message, exchange)
    }
    if (requests.length === 0) return new Response(null, { status: 202, headers: cors })
    return this.#answer(requests, isBatch, session, principal, cors)
  }

  async #initialize(request: JsonRpcRequest, principal: Principal, cors: Record<string, string>): Promise<Response> {
    const { response, session } = await this.#o.core.initialize(request, { principal, transport: 'streamable-http', createSession: true })
    if (!session) return json(200, response, cors)
    await this.#o.hub.open(standaloneStreamId(session.id), session.id)
    return json(200, response, { ...cors, [SESSION_HEADER]: session.id })
  }

  /** Look up the session the request names, enforcing presence, ownership and the version header. */
  async #session(request: Request, principal: Principal, cors: Record<string, string>): Promise<SessionState | Response> {
    const id = request.headers.get(SESSION_HEADER)
    if (!id)
      return rpcErrorResponse(400, ErrorCode.ConnectionClosed, 'Bad Request: Mcp-Session-Id header is required (send initialize first to get one)', cors)
    const session = await this.#o.sessions.get(id)
    // Another principal's session is reported exactly like a missing one: ids are not credentials.
    if (!session || session.ownerId !== principal.id)
      return rpcErrorResponse(404, ErrorCode.SessionNotFound, 'Session not found: it ended or expired; initialize a new session', cors)
    const version = request.headers.get('mcp-protocol-version')
    if (version !== null && !isSupportedVersion(version))
      return rpcErrorResponse(400, ErrorCode.ConnectionClosed, `Bad Request: unsupported MCP-Protocol-Version "${version}" (supported: 2025-11-25, 2025-06-18, 2025-03-26, 2024-11-05)`, cors)
    await this.#o.sessions.touch(id)
    return session
  }

  /**
   * Run the requests. If they all finish before sending anything related, answer with JSON;
   * otherwise switch to an SSE stream whose events are logged for resumption.
   */
  async #answer(
    requests: JsonRpcRequest[],
    isBatch: boolean,
    session: SessionState,
    principal: Principal,
    cors: Record<string, string>,
  ): Promise<Response> {
    const { core, hub } = this.#o
    let streamId: string | undefined
    let upgrade: (() => void) | undefined
    const upgraded = new Promise<'sse'>((resolve) => (upgrade = () => resolve('sse')))
    // The connection, once the reply has become a stream; `drop` asks for it to be closed early.
    let connection: SseStream | undefined
    let drop = false
    const ensureStream = (): string => {
      if (streamId === undefined) {
        streamId = crypto.randomUUID()
        void hub.open(streamId, session.id)
        upgrade!()
      }
      return streamId
    }
    const exchange: Exchange = {
      session,
      principal,
      transport: 'streamable-http',
      send: (message: JsonRpcMessage) => hub.write(ensureStream(), message).then(() => {}),
      closeStream: () => {
        ensureStream()
        drop = true
        connection?.close()
      },
    }
    const all = Promise.all(requests.map((r) => core.handleRequest(r, exchange)))
    const first = await Promise.race([all, upgraded])
    if (first !== 'sse') {
      const responses = first.filter((r): r is JsonRpcResponse => r !== undefined)
      // Every request was cancelled: nothing to answer with.
      if (responses.length === 0) return new Response(null, { status: 202, headers: cors })
      return json(200, isBatch ? responses : responses[0]!, cors)
    }
    const id = streamId!
    void all.then(async (responses) => {
      for (const r of responses) if (r) await hub.write(id, r)
      await hub.end(id)
    })
    return this.#stream(id, session, principal, 0, cors, true, undefined, (sse) => {
      connection = sse
      if (drop) sse.close()
    })
  }

  /** Open an SSE response that replays and follows a stream from `afterSeq`. */
  async #stream(
    streamId: string,
    session: SessionState,
    principal: Principal,
    afterSeq: number | 'live',
    headers: Record<string, string>,
    prime: boolean,
    onClose?: () => void,
    onOpen?: (sse: SseStream) => void,
  ): Promise<Response> {
    const { hub, sessions, keepAliveMs, sseRetryMs } = this.#o
    let detach: () => void = () => {}
    let untrack: () => void = () => {}
    const sse = new SseStream({
      keepAliveMs,
      onKeepAlive: () => void sessions.touch(session.id),
      onClose: () => {
        this.#openStreams--
        detach()
        untrack()
        onClose?.()
      },
    })
    this.#openStreams++
    // A revoked auth session (logout) closes its streams; the client's next request gets 401.
    untrack = this.#o.revocations?.track(principal, () => sse.close()) ?? untrack
    // Priming (SEP-1699): an id the client can resume from before any message arrives. Clients
    // older than 2025-11-25 choke on an empty data line, so they get none.
    if (prime && versionAtLeast(session.protocolVersion, '2025-11-25')) {
      const at = afterSeq === 'live' ? ((await hub.log.info(streamId))?.lastSeq ?? 0) : afterSeq
      sse.event('', { id: formatEventId(streamId, at), retryMs: sseRetryMs })
    } else {
      // Bun sends the status line and headers with the first body bytes: without this comment a
      // GET would stay unanswered until the first event or keep-alive.
      sse.comment('open')
    }
    detach = await hub.attach(streamId, afterSeq, {
      event: (seq, message) => sse.event(JSON.stringify(message), { id: formatEventId(streamId, seq), event: 'message' }),
      end: () => sse.close(),
      takenOver: () => sse.close(),
    })
    if (sse.closed) detach()
    onOpen?.(sse)
    return sse.response(headers)
  }

  async get(request: Request, disableIdleTimeout: () => void): Promise<Response> {
    const { guard } = this.#o
    const denied = guard.check(request)
    if (denied) return denied
    const cors = guard.cors(request)
    if (!acceptsAll(request, ['text/event-stream']))
      return rpcErrorResponse(406, ErrorCode.ConnectionClosed, 'Not Acceptable: the Accept header must list text/event-stream', cors)
    const principal = await this.#o.authenticate(request)
    if (principal instanceof Response) return principal
    const found = await this.#session(request, principal, cors)
    if (found instanceof Response) return found
    const session = found
    const lastEventId = request.headers.get('last-event-id')
    if (lastEventId !== null) {
      const at = parseEventId(lastEventId)
      const info = at && (await this.#o.hub.log.info(at.streamId))
      if (!at || !info || info.sessionId !== session.id)
        return rpcErrorResponse(400, ErrorCode.InvalidRequest, 'Bad Request: Last-Event-ID does not name an event of this session', cors)
      disableIdleTimeout()
      const standalone = at.streamId === standaloneStreamId(session.id)
      const release = standalone ? this.#holdStandalone(session.id) : undefined
      return this.#stream(at.streamId, session, principal, at.seq, cors, false, release)
    }
    if (this.#standalone.has(session.id))
      return rpcErrorResponse(409, ErrorCode.ConnectionClosed, 'Conflict: this session already has an open GET stream', cors)
    const release = this.#holdStandalone(session.id)
    disableIdleTimeout()
    return this.#stream(standaloneStreamId(session.id), session, principal, 'live', cors, true, release)
  }

  /** Mark a session's GET stream as held here until the returned release runs (on close). */
  #holdStandalone(sessionId: string): () => void {
    this.#standalone.add(sessionId)
    // Without this, broadcasts (list_changed) would reach no Streamable HTTP session at all.
    this.#o.outbox.hold(sessionId)
    return () => {
      this.#standalone.delete(sessionId)
      this.#o.outbox.release(sessionId)
    }
  }

  async delete(request: Request): Promise<Response> {
    const { guard, core, hub } = this.#o
    const denied = guard.check(request)
    if (denied) return denied
    const cors = guard.cors(request)
    const principal = await this.#o.authenticate(request)
    if (principal instanceof Response) return principal
    const found = await this.#session(request, principal, cors)
    if (found instanceof Response) return found
    await hub.end(standaloneStreamId(found.id))
    await core.endSession(found.id)
    await hub.log.dropSession(found.id)
    return new Response(null, { status: 200, headers: cors })
  }
}

function json(status: number, body: unknown, headers: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } })
}
