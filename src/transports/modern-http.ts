/**
 * @module transports/modern-http
 * Streamable HTTP for MCP 2026-07-28, on the same endpoint as the 2025 sessions: a POST whose
 * body claims the per-request era (`_meta` protocol version) or whose MCP-Protocol-Version header
 * names it is served here, without a session. Checks run in the order the spec's errors rank:
 * the `_meta` envelope (-32602), the version header (-32020), the version itself (-32022), the
 * routing headers (-32020); all are HTTP 400 and keep the request id. Then the request is served
 * statelessly (JSON, or an SSE stream closed by its response; closing it cancels the request),
 * `subscriptions/listen` becomes a long-lived stream of change notifications, and notifications
 * are accepted (202) with nothing to do.
 */
import { readEnvelope } from '../core/envelope.ts'
import { ErrorCode } from '../core/errors.ts'
import { failure, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse, type RequestId } from '../core/jsonrpc.ts'
import type { McpServer } from '../core/mcp-server.ts'
import type { ListenSink } from '../core/subscriptions.ts'
import type { Principal } from '../core/types.ts'
import { MODERN_PROTOCOL_VERSIONS, SUPPORTED_PROTOCOL_VERSIONS, isServedModernVersion } from '../core/versions.ts'
import { paramHeaderProblem, routingHeaderProblem, versionHeaderProblem } from './mcp-headers.ts'
import { json, type PostReplies } from './post-replies.ts'
import type { RevocationWatcher } from './revocation-watcher.ts'
import { SseStream } from './sse-stream.ts'

export interface ModernHttpOptions {
  core: McpServer
  replies: PostReplies
  keepAliveMs: number
  revocations?: Pick<RevocationWatcher, 'track'>
  /** Counted for metrics: a listen stream opened, and closed. */
  streamOpened(): void
  streamClosed(): void
}

type Cors = Readonly<Record<string, string>>

/**
 * The HTTP status of an in-band error (2026-07-28 transports): an unknown method is 404 and a
 * missing client capability 400, so intermediaries can tell them apart; other errors are payloads (200).
 */
const STATUS_OF_CODE = new Map<number, number>([
  [ErrorCode.MethodNotFound, 404],
  [ErrorCode.MissingRequiredClientCapability, 400],
])
const statusOf = (response: JsonRpcResponse) => ('error' in response ? (STATUS_OF_CODE.get(response.error.code) ?? 200) : 200)

const rpcError = (status: number, id: RequestId | null, code: number, message: string, cors: Cors, data?: unknown) =>
  json(status, failure(id, data === undefined ? { code, message } : { code, message, data }), cors)

export class ModernHttp {
  readonly #o: ModernHttpOptions

  constructor(opts: ModernHttpOptions) {
    this.#o = opts
  }

  /** Serve one 2026-07-28 message (authenticated and parsed by the caller). */
  post(request: Request, message: JsonRpcRequest | JsonRpcNotification, principal: Principal, cors: Cors, disableIdleTimeout: () => void): Response | Promise<Response> {
    const id = 'id' in message ? message.id : null
    const envelope = readEnvelope(message.params)
    if ('problem' in envelope) return rpcError(400, id, ErrorCode.InvalidParams, envelope.problem, cors)
    const versionHeader = versionHeaderProblem(request.headers, envelope)
    if (versionHeader) return rpcError(400, id, ErrorCode.HeaderMismatch, versionHeader, cors)
    const requested = envelope.protocolVersion
    if (!isServedModernVersion(requested))
      return rpcError(
        400,
        id,
        ErrorCode.UnsupportedProtocolVersion,
        `Unsupported protocol version "${requested}": this endpoint serves ${MODERN_PROTOCOL_VERSIONS.join(', ')} per request (and ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')} through initialize); retry with a version from data.supported`,
        cors,
        { supported: [...MODERN_PROTOCOL_VERSIONS], requested },
      )
    const routing = routingHeaderProblem(request.headers, message)
    if (routing) return rpcError(400, id, ErrorCode.HeaderMismatch, routing, cors)
    // No client notification means anything over HTTP in 2026-07-28 (cancelling is closing the stream).
    if (!('id' in message)) return new Response(null, { status: 202, headers: cors })
    if (message.method === 'tools/call') {
      const tool = typeof message.params?.name === 'string' ? this.#o.core.registry.getTool(message.params.name) : undefined
      const param = tool && paramHeaderProblem(request.headers, tool, message.params?.arguments)
      if (param) return rpcError(400, message.id, ErrorCode.HeaderMismatch, param, cors)
    }
    if (message.method === 'subscriptions/listen') return this.#listen(message, principal, cors, disableIdleTimeout)
    // Cancellation is the client closing the SSE stream (2026-07-28 `cancellation`); a JSON reply
    // still being computed runs to its end, like a 2025 one.
    return this.#o.replies.direct(message, principal, cors, disableIdleTimeout, { envelope, abort: new AbortController(), statusOf })
  }

  /**
   * `subscriptions/listen`: an SSE stream that opens with the acknowledgement and then carries the
   * changes the client asked for, until the client closes it (or the server shuts down, which
   * sends the listen request's result first). A revoked sign-in closes it, like a 2025 GET stream.
   */
  #listen(message: JsonRpcRequest, principal: Principal, cors: Cors, disableIdleTimeout: () => void): Response {
    const o = this.#o
    let onClose: () => void = () => {}
    const sse = new SseStream({ keepAliveMs: o.keepAliveMs, onClose: () => onClose() })
    const sink: ListenSink = { send: (m) => sse.event(JSON.stringify(m), { event: 'message' }), end: () => sse.close() }
    const subscription = o.core.subscriptions.open(message, sink)
    if (!('close' in subscription)) {
      sse.close()
      const refused = failure(message.id, subscription)
      return json(statusOf(refused), refused, cors)
    }
    o.streamOpened()
    const untrack = o.revocations && principal.authSessionId !== undefined ? o.revocations.track(principal, () => sse.close()) : undefined
    onClose = () => {
      subscription.close()
      untrack?.()
      o.streamClosed()
    }
    disableIdleTimeout()
    return sse.response(cors)
  }
}
