/**
 * @module transports/post-replies
 * How Streamable HTTP answers the requests of one POST: JSON when they finish without sending
 * anything related, otherwise (or when they run long) an SSE stream — resumable through
 * `Streams` inside a session, written directly when there is no session to resume with (the
 * stateless mode, and every 2026-07-28 request).
 */
import type { RequestEnvelope } from '../core/envelope.ts'
import { ErrorCode } from '../core/errors.ts'
import { failure, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../core/jsonrpc.ts'
import type { Exchange, McpServer } from '../core/mcp-server.ts'
import type { SessionState } from '../core/session.ts'
import type { StreamRef, Streams } from '../core/streams.ts'
import type { Principal } from '../core/types.ts'
import { JSON_HEADERS, authChallenge } from '../lib/respond.ts'
import { NO_HEADERS } from './http-guard.ts'
import { SlowReplies } from './slow-replies.ts'
import { openSseReply, type SseReplyOptions } from './sse-reply.ts'
import { SseStream } from './sse-stream.ts'

/**
 * A request still running after this long is answered as an SSE stream (with keep-alives and no
 * idle timeout) instead of a silent JSON wait: Bun drops a connection idle past its timeout even
 * while the handler is still working.
 */
const SLOW_REPLY_MS = 5000

export interface PostRepliesOptions {
  core: McpServer
  streams: Streams
  keepAliveMs: number
  reply: SseReplyOptions
  /** Counted for metrics: a reply became a stream, and such a (session-less) stream closed. */
  streamOpened(): void
  streamClosed(): void
}

export class PostReplies {
  readonly #o: PostRepliesOptions
  readonly #slow = new SlowReplies(SLOW_REPLY_MS)

  constructor(opts: PostRepliesOptions) {
    this.#o = opts
  }

  /**
   * Run the requests. If they all finish before sending anything related, answer with JSON;
   * otherwise switch to an SSE stream whose events are logged for resumption.
   */
  async inSession(
    requests: JsonRpcRequest[],
    isBatch: boolean,
    session: SessionState,
    principal: Principal,
    cors: Readonly<Record<string, string>>,
    disableIdleTimeout: () => void,
  ): Promise<Response> {
    const { core, streams } = this.#o
    let stream: StreamRef | undefined
    /** Whether the store took the reply stream (false: it is away, see below). */
    let opened: Promise<boolean> = Promise.resolve(true)
    let upgrade: (() => void) | undefined
    const upgraded = new Promise<'sse'>((resolve) => (upgrade = () => resolve('sse')))
    // The connection, once the reply has become a stream; `drop` asks for it to be closed early.
    let connection: SseStream | undefined
    let drop = false
    const ensureStream = (): StreamRef => {
      if (stream === undefined) {
        stream = { sessionId: session.id, streamId: crypto.randomUUID() }
        // Not awaited: writes on the same stream are issued after it, in order, on one connection.
        opened = streams.open(stream, { requestIds: requests.map((r) => r.id) }).then(
          () => true,
          (err) => {
            console.error('[streamable-http] opening a reply stream failed:', err instanceof Error ? err.message : err)
            return false
          },
        )
        upgrade!()
      }
      return stream
    }
    const exchange: Exchange = {
      session,
      principal,
      transport: 'streamable-http',
      send: (message: JsonRpcMessage) => streams.write(ensureStream(), [message]).then(() => {}),
      closeStream: () => {
        ensureStream()
        drop = true
        connection?.close()
      },
    }
    const all = requests.length === 1 ? core.handleRequest(requests[0]!, exchange).then((r) => [r]) : Promise.all(requests.map((r) => core.handleRequest(r, exchange)))
    const slow = this.#slow.watch(ensureStream)
    const first = await Promise.race([all, upgraded])
    this.#slow.unwatch(slow)
    if (first !== 'sse') return jsonReply(first, isBatch, cors)
    // With the store away no stream can be logged: answer once done, as JSON. A reply that was only
    // slow loses nothing; notifications sent meanwhile were lost with the store either way.
    if (!(await opened)) return jsonReply(await all, isBatch, cors)
    disableIdleTimeout()
    const ref = stream!
    void all
      .then(async (responses) => {
        const answered = responses.filter((r): r is JsonRpcResponse => r !== undefined)
        if (answered.length) await streams.write(ref, answered)
        await streams.end(ref)
      })
      .catch((err) => console.error('[streamable-http] writing the final responses failed:', err))
    this.#o.streamOpened()
    const reply = await openSseReply(this.#o.reply, {
      streamId: ref.streamId,
      session,
      principal,
      afterSeq: 0,
      headers: cors,
      prime: true,
      onOpen: (sse) => {
        connection = sse
        if (drop) sse.close()
      },
    })
    // The stream was opened just above: only a store that lost it (a flushed Redis) gets here.
    return reply ?? json(503, failure(null, { code: ErrorCode.InternalError, message: 'The reply stream was lost: retry the request' }), { ...cors, 'retry-after': '1' })
  }

  /**
   * A request with no session: JSON unless it sends something related, then an SSE stream
   * written directly (nothing to resume: without a session no GET can come back for it).
   */
  stateless(request: JsonRpcRequest, principal: Principal, cors: Readonly<Record<string, string>>, disableIdleTimeout: () => void): Promise<Response> {
    return this.direct(request, principal, cors, disableIdleTimeout)
  }

  /**
   * Answer one request handled outside any session: JSON unless it sends something related, then
   * an SSE stream written directly. With `modern`, it is a 2026-07-28 request (its envelope): a
   * client that closes the stream cancels it (`abort`), and `statusOf` picks the HTTP status of a
   * JSON answer.
   */
  async direct(
    request: JsonRpcRequest,
    principal: Principal,
    cors: Readonly<Record<string, string>>,
    disableIdleTimeout: () => void,
    modern?: { envelope: RequestEnvelope; abort: AbortController; statusOf(response: JsonRpcResponse): number },
  ): Promise<Response> {
    let sse: SseStream | undefined
    let answered = false
    let upgrade: (() => void) | undefined
    const upgraded = new Promise<'sse'>((resolve) => (upgrade = () => resolve('sse')))
    const onClose = modern
      ? () => {
          this.#o.streamClosed()
          if (!answered) modern.abort.abort()
        }
      : this.#o.streamClosed
    const stream = (): SseStream => {
      if (!sse) {
        this.#o.streamOpened()
        sse = new SseStream({ keepAliveMs: this.#o.keepAliveMs, maxBufferedBytes: this.#o.reply.maxBufferedBytes, onClose })
        sse.comment('open')
        upgrade!()
      }
      return sse
    }
    const send = (message: JsonRpcMessage) => stream().event(JSON.stringify(message), { event: 'message' })
    const { core } = this.#o
    const done = (
      modern
        ? core.handleModernRequest(request, { principal, transport: 'streamable-http', envelope: modern.envelope, signal: modern.abort.signal, send })
        : core.handleRequest(request, { principal, transport: 'streamable-http', send })
    ).then((r) => [r])
    const slow = this.#slow.watch(stream)
    const first = await Promise.race([done, upgraded])
    this.#slow.unwatch(slow)
    if (first !== 'sse') {
      answered = true
      return jsonReply(first, false, cors, modern?.statusOf)
    }
    disableIdleTimeout()
    void done
      .then(
        ([response]) => response,
        (err: unknown) => {
          // The core answers its own failures; this is only a last resort, so the stream still ends.
          console.error('[streamable-http] a streamed reply failed:', err)
          return failure(request.id, { code: ErrorCode.InternalError, message: `Internal error while handling ${request.method}` })
        },
      )
      .then((response) => {
        answered = true
        if (response) sse!.event(JSON.stringify(response), { event: 'message' })
        sse!.close()
      })
    return sse!.response(cors)
  }
}

/** The JSON answer to the requests of one POST; 202 when every one was cancelled (no response is due). */
function jsonReply(
  responses: (JsonRpcResponse | undefined)[],
  isBatch: boolean,
  cors: Readonly<Record<string, string>>,
  statusOf?: (response: JsonRpcResponse) => number,
): Response {
  if (!isBatch) {
    const only = responses[0]
    if (only === undefined) return new Response(null, { status: 202, headers: cors })
    const stepUp = stepUpChallenge(only)
    return stepUp ? json(403, only, { ...cors, 'www-authenticate': stepUp }) : json(statusOf ? statusOf(only) : 200, only, cors)
  }
  const answered = responses.filter((r): r is JsonRpcResponse => r !== undefined)
  return answered.length === 0 ? new Response(null, { status: 202, headers: cors }) : json(200, answered, cors)
}

/**
 * A lone request refused for want of an OAuth scope is refused in HTTP terms too (RFC 6750 §3.1:
 * 403 with an `insufficient_scope` challenge naming every scope needed): that is the signal OAuth
 * clients step up on, re-authorizing with the scopes it names.
 */
function stepUpChallenge(response: JsonRpcResponse): string | undefined {
  if (!('error' in response) || response.error.code !== ErrorCode.Forbidden) return undefined
  const d = response.error.data as { reason?: string; scope?: string; resource_metadata?: string } | undefined
  if (d?.reason !== 'insufficient_scope' || d.resource_metadata === undefined) return undefined
  return authChallenge({ resourceMetadata: d.resource_metadata, scope: d.scope, error: 'insufficient_scope', description: response.error.message })
}

export function json(status: number, body: unknown, headers: Readonly<Record<string, string>>): Response {
  // The common case (no CORS headers) reuses one frozen header record.
  const all = headers === NO_HEADERS ? JSON_HEADERS : { ...JSON_HEADERS, ...headers }
  return new Response(JSON.stringify(body), { status, headers: all })
}
