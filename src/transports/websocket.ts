/**
 * @module transports/websocket
 * MCP over WebSocket at one path. No spec defines it; the wire is what the SDK 1.x
 * `WebSocketClientTransport` and the SEP-1288 drafts agree on: subprotocol `mcp`, one JSON-RPC
 * message per text frame. The connection is the session: `initialize` creates it, closing the
 * socket ends it, and everything the server sends (replies, progress, server requests,
 * notifications) travels on the socket.
 *
 * The upgrade is a Bun-native route and the socket handlers are Bun's own (`serverOptions()`),
 * not Elysia's `.ws()`: Elysia wraps every socket in per-connection proxies and closures, which
 * cost more memory than the session itself (BENCHMARKS.md, idle memory per connection).
 */
import type { ServerWebSocket } from 'bun'
import { ErrorCode, clip, rateLimited } from '../core/errors.ts'
import { classify, failure, success, type JsonRpcMessage, type JsonRpcRequest } from '../core/jsonrpc.ts'
import type { Exchange } from '../core/mcp-server.ts'
import type { SessionState } from '../core/session.ts'
import { STANDALONE_STREAM, type Attachment } from '../core/streams.ts'
import type { Principal } from '../core/types.ts'
import { rpcErrorResponse } from './http-guard.ts'
import { parseLimitedJson } from './json-limits.ts'
import { MessagePacer } from './message-pacer.ts'
import { StreamSlot, streamRefusalMessage } from './stream-limits.ts'
import type { BunServerHandle, RequestMeter } from './native-route.ts'
import type { TransportDeps } from './transport-deps.ts'

export interface WebSocketOptions extends TransportDeps {
  path: string
  /** Bytes a socket may queue for a client that does not read; past it the socket is closed. */
  maxBufferedBytes: number
  /** Seconds without traffic before Bun pings the client; a client that does not pong is dropped. */
  idleTimeoutS: number
  /** Bytes of a client's messages that may wait to be handled (see MessagePacer); past it the socket is closed. */
  maxWaitingBytes: number
  meter?: RequestMeter
}

/** Bun's server, as far as accepting an upgrade goes. */
interface UpgradingServer extends BunServerHandle {
  upgrade(request: Request, options: { headers?: Record<string, string>; data: Connection }): boolean
}

export const SUBPROTOCOL = 'mcp'

/** Close codes (RFC 6455 §7.4.1). 1009 (too big) is sent by Bun itself. */
const CLOSE_NORMAL = 1000
const CLOSE_UNSUPPORTED_DATA = 1003
/** Policy violation; used by convention for authentication failures (mcp-spec.md WS-S6) and floods. */
const CLOSE_POLICY = 1008
/** Messages refused in a row for the request budget before the socket is closed: it is not listening. */
const REFUSALS_BEFORE_CLOSE = 100
const CLOSE_INTERNAL_ERROR = 1011
/** Event-loop time spent on incoming messages in one turn before the rest waits (see MessagePacer). */
const MESSAGE_SLICE_MS = 4

/** What the transport needs of a Bun `ServerWebSocket`; its `data` is the connection. */
interface Socket {
  /** Bytes sent; -1 when queued behind backpressure; 0 when dropped (buffer full or closed). */
  send(data: string): number
  close(code?: number, reason?: string): void
  data: Connection
}

interface Connection {
  /** Set when the socket opens. */
  socket?: Socket
  principal: Principal
  /** The client address of the upgrade request. */
  address?: string
  session?: SessionState
  exchange?: Exchange
  /** Set while `initialize` runs, so a second one cannot create a second session. */
  initializing: boolean
  closed: boolean
  attachment?: Attachment
  untrack?: () => void
  /** Its place in the stream limits, given back when the socket closes. */
  slot?: StreamSlot
  /** Messages waiting for the request budget's answer, in order (authentication on). */
  inbox?: Promise<void>
  /** Messages refused in a row for the request budget. */
  refusals: number
}

export class WebSocketTransport {
  readonly #o: WebSocketOptions
  /** Open connections: counted for metrics, and walked by the one keep-alive timer. */
  readonly #connections = new Set<Connection>()
  #keepAlive: ReturnType<typeof setInterval> | undefined
  readonly #pacer: MessagePacer<Connection>

  constructor(opts: WebSocketOptions) {
    this.#o = opts
    this.#pacer = new MessagePacer({ handle: (conn, data) => this.#admit(conn, data), sliceMs: MESSAGE_SLICE_MS, maxQueuedBytes: opts.maxWaitingBytes })
  }

  /** Sockets open on this instance, for metrics. */
  get openSockets(): number {
    return this.#connections.size
  }

  /** Sockets that carry a session (initialized), for metrics. */
  get openSessions(): number {
    let n = 0
    for (const c of this.#connections) if (c.session) n++
    return n
  }

  /** The Bun-native route accepting upgrades at `path` (mount it with Bun.serve's `routes`). */
  routes(): Record<string, { GET: (request: Request, server: UpgradingServer) => Promise<Response | undefined> }> {
    return { [this.#o.path]: { GET: (request, server) => this.#upgrade(request, server) } }
  }

  /**
   * The Bun server's `websocket` settings and handlers. Bun has one set per server, so the
   * composition root passes these to `listen`; only this transport speaks WebSocket.
   */
  serverOptions() {
    return {
      // A frame larger than a body may be closes the socket with 1009.
      maxPayloadLength: this.#o.json.maxBytes,
      backpressureLimit: this.#o.maxBufferedBytes,
      // A client that stops reading would otherwise make the server queue without bound.
      closeOnBackpressureLimit: true,
      idleTimeout: this.#o.idleTimeoutS,
      // Bun pings a quiet client before idleTimeout; a live one pongs and stays (answers to the
      // client's own pings are automatic).
      sendPings: true,
      perMessageDeflate: false,
      // Every socket of this server was upgraded by `#upgrade`, so its `data` is a Connection.
      open: (ws: ServerWebSocket<unknown>) => this.#open(ws as Socket),
      message: (ws: ServerWebSocket<unknown>, data: string | Buffer) => this.#message(ws as Socket, data),
      close: (ws: ServerWebSocket<unknown>) => void this.#close(ws as Socket),
    }
  }

  /** Origin/Host (cross-site WebSocket hijacking is DNS rebinding's WebSocket form), auth, upgrade. */
  async #upgrade(request: Request, server: UpgradingServer): Promise<Response | undefined> {
    const { meter, path } = this.#o
    const started = meter?.requestStarted()
    const answer = await this.#tryUpgrade(request, server)
    if (meter && started !== undefined) meter.requestFinished(path, 'GET', answer?.status ?? 101, started)
    return answer
  }

  async #tryUpgrade(request: Request, server: UpgradingServer): Promise<Response | undefined> {
    const denied = this.#o.guard.check(request)
    if (denied) return denied
    if (request.headers.get('upgrade')?.toLowerCase() !== 'websocket')
      return rpcErrorResponse(426, ErrorCode.ConnectionClosed, 'Upgrade Required: open a WebSocket (subprotocol "mcp") at this URL', { upgrade: 'websocket' })
    let principal = this.#o.authenticate(request)
    if (principal instanceof Promise) principal = await principal
    if (principal instanceof Response) return principal
    // Browsers fail a handshake that offered a subprotocol and got none back.
    const headers = offeredProtocols(request).includes(SUBPROTOCOL) ? { 'sec-websocket-protocol': SUBPROTOCOL } : undefined
    const address = this.#o.addressOf?.(request)
    const slot = this.#o.streamLimits?.open(principal.id, address)
    if (slot !== undefined && !(slot instanceof StreamSlot)) {
      const message = streamRefusalMessage(slot)
      this.#o.refused?.({ kind: 'stream_refused', principal, clientAddress: address, transport: 'websocket', detail: message })
      return rpcErrorResponse(429, ErrorCode.RateLimited, message)
    }
    const conn: Connection = { principal, address, slot, initializing: false, closed: false, refusals: 0 }
    if (server.upgrade(request, { headers, data: conn })) return undefined
    slot?.release()
    return rpcErrorResponse(400, ErrorCode.ConnectionClosed, 'Bad Request: the WebSocket handshake failed')
  }

  #open(socket: Socket): void {
    const conn = socket.data
    conn.socket = socket
    this.#connections.add(conn)
    this.#startKeepAlive()
    // The token was checked once, at the upgrade: a revoked auth session (logout) must not keep
    // a socket it opened.
    conn.untrack = this.#o.revocations?.track(conn.principal, () => socket.close(CLOSE_POLICY, 'The auth session was revoked'))
  }

  /** One timer for all sockets: each open socket keeps its session from idling out. */
  #startKeepAlive(): void {
    if (this.#keepAlive !== undefined) return
    this.#keepAlive = setInterval(() => {
      if (this.#connections.size === 0) {
        clearInterval(this.#keepAlive)
        this.#keepAlive = undefined
        return
      }
      for (const c of this.#connections) if (c.session) void this.#o.core.touch(c.session.id).catch(() => {})
    }, this.#o.keepAliveMs)
    this.#keepAlive.unref?.()
  }

  #message(socket: Socket, data: string | Buffer): void {
    const conn = socket.data
    if (conn.closed) return
    if (typeof data !== 'string') {
      socket.close(CLOSE_UNSUPPORTED_DATA, 'Binary frames are not supported: send each JSON-RPC message as one text frame')
      return
    }
    if (this.#pacer.offer(conn, data)) return
    conn.closed = true
    socket.close(CLOSE_POLICY, 'Too many messages waiting for an answer: wait for answers before sending more')
  }

  /** A message whose turn has come: it spends the request budget, then is handled. */
  #admit(conn: Connection, data: string): void | Promise<void> {
    if (conn.closed) return
    const budget = this.#o.requestBudget
    if (!budget || conn.address === undefined) return this.#handle(conn, data)
    // Every message spends the address's request budget, like an HTTP request. The budget answers
    // asynchronously: a chain per connection keeps the messages in the order they came.
    const address = conn.address
    return (conn.inbox = (conn.inbox ?? Promise.resolve()).then(async () => {
      const retryAfterS = await budget(address, 1)
      if (conn.closed) return
      if (retryAfterS === undefined) {
        conn.refusals = 0
        this.#handle(conn, data)
      } else this.#throttle(conn, data, retryAfterS)
    }).catch((err) => console.error('[ws] handling a client message failed:', err)))
  }

  /** A message past the budget: requests are answered -32029; a client that keeps going is closed (1008). */
  #throttle(conn: Connection, data: string, retryAfterS: number): void {
    if (conn.refusals++ === 0)
      this.#o.refused?.({ kind: 'rate_limited', principal: conn.principal, clientAddress: conn.address, transport: 'websocket', detail: 'websocket messages past the request budget' })
    if (conn.refusals > REFUSALS_BEFORE_CLOSE) {
      conn.closed = true
      conn.socket?.close(CLOSE_POLICY, `Too many requests from this address: reconnect in ${retryAfterS} s`)
      return
    }
    const decoded = parseLimitedJson(data, this.#o.json)
    const item = 'value' in decoded && !Array.isArray(decoded.value) ? classify(decoded.value) : undefined
    if (item?.kind === 'request')
      this.#send(conn, failure(item.message.id, rateLimited(`Too many requests from this address: try again in ${retryAfterS} s`, retryAfterS).toJson()))
  }

  #handle(conn: Connection, data: string): void {
    const decoded = parseLimitedJson(data, this.#o.json)
    if ('syntax' in decoded) {
      this.#send(conn, failure(null, { code: ErrorCode.ParseError, message: `Parse error: the frame is not valid JSON (${clip(decoded.syntax, 256)})` }))
      return
    }
    if ('shape' in decoded) {
      this.#send(conn, failure(null, { code: ErrorCode.InvalidRequest, message: `Invalid Request: ${decoded.shape.message}` }))
      return
    }
    if (Array.isArray(decoded.value)) {
      this.#send(conn, failure(null, { code: ErrorCode.InvalidRequest, message: 'Invalid Request: send one JSON-RPC message per frame; batches are not supported over WebSocket' }))
      return
    }
    const item = classify(decoded.value)
    if (item.kind === 'invalid') this.#send(conn, failure(item.id, item.error))
    else if (item.kind === 'request') void this.#request(conn, item.message)
    else if (conn.exchange) {
      const exchange = conn.exchange
      const { core } = this.#o
      const handled = item.kind === 'notification' ? core.handleNotification(item.message, exchange) : core.handleResponse(item.message, exchange)
      handled.catch((err) => console.error('[ws] handling a client message failed:', err))
    }
    // A notification or response before `initialize` concerns no session: ignored, as JSON-RPC allows.
  }

  async #request(conn: Connection, request: JsonRpcRequest): Promise<void> {
    const { core } = this.#o
    try {
      if (request.method === 'initialize' && !conn.session) {
        if (!conn.initializing) return await this.#initialize(conn, request)
        return this.#send(conn, failure(request.id, { code: ErrorCode.InvalidRequest, message: 'Invalid Request: initialize is already in progress on this connection' }))
      }
      if (!conn.exchange || !conn.session) {
        const response =
          request.method === 'ping'
            ? success(request.id, {})
            : failure(request.id, { code: ErrorCode.InvalidRequest, message: 'Invalid Request: send initialize first; this connection has no session yet' })
        return this.#send(conn, response)
      }
      void core.touch(conn.session.id).catch(() => {})
      const response = await core.handleRequest(request, conn.exchange)
      if (response) this.#send(conn, response)
    } catch (err) {
      console.error(`[ws] ${request.method} failed:`, err)
      this.#send(conn, failure(request.id, { code: ErrorCode.InternalError, message: `Internal error while handling ${request.method}` }))
    }
  }

  async #initialize(conn: Connection, request: JsonRpcRequest): Promise<void> {
    const { core, streams } = this.#o
    conn.initializing = true
    try {
      const { response, session } = await core.initialize(request, { principal: conn.principal, transport: 'websocket', clientAddress: conn.address, createSession: true })
      if (session) {
        if (conn.closed) {
          // The socket went away while the session was being created.
          await core.endSession(session.id)
          return
        }
        const ref = { sessionId: session.id, streamId: STANDALONE_STREAM }
        // The socket is the session: nothing to resume, so delivered messages are not kept.
        await streams.open(ref, { ephemeral: true })
        core.outbox.hold(session.id)
        conn.session = session
        conn.exchange = { session, principal: conn.principal, transport: 'websocket', send: (message) => this.#send(conn, message) }
        conn.attachment = await streams.attach(ref, 'live', {
          event: (_seq, message) => this.#send(conn, message),
          end: () => conn.socket?.close(CLOSE_NORMAL, 'The session ended'),
          takenOver: () => conn.socket?.close(CLOSE_NORMAL, 'The session was taken over by another connection'),
        })
        if (conn.closed) await this.#release(conn)
      }
      this.#send(conn, response)
    } finally {
      conn.initializing = false
    }
  }

  #send(conn: Connection, message: JsonRpcMessage): void {
    if (conn.closed) return
    // 0 means Bun dropped the frame: the client stopped reading and the queue reached
    // maxBufferedBytes. Bun closes such a socket (closeOnBackpressureLimit); say why once.
    const socket = conn.socket
    if (socket && socket.send(JSON.stringify(message)) === 0 && !conn.closed) {
      conn.closed = true
      console.warn(`[ws] closing session ${conn.session?.id ?? '(none)'}: the client is not reading its messages`)
      socket.close(CLOSE_INTERNAL_ERROR, 'The client is not reading its messages')
    }
  }

  async #close(socket: Socket): Promise<void> {
    const conn = socket.data
    conn.slot?.release()
    this.#pacer.forget(conn)
    if (!this.#connections.delete(conn)) return
    conn.closed = true
    conn.untrack?.()
    await this.#release(conn)
  }

  /** End the connection's session and let go of everything it held. Safe to call twice. */
  async #release(conn: Connection): Promise<void> {
    const session = conn.session
    conn.attachment?.detach()
    conn.session = undefined
    conn.exchange = undefined
    if (!session) return
    const { core } = this.#o
    core.outbox.release(session.id)
    try {
      await core.endSession(session.id)
    } catch (err) {
      console.error(`[ws] clean-up of session ${session.id} failed:`, err)
    }
  }
}

function offeredProtocols(request: Request): string[] {
  return (request.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim())
}
