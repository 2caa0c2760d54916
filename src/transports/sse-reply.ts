/**
 * @module transports/sse-reply
 * An SSE response that follows one resumable stream: it replays the log after a position, then
 * delivers live events, each with an id (`<stream>:<seq>`) a client can resume from. Used for POST
 * replies that became streams, GET streams and Last-Event-ID resumption.
 */
import type { JsonRpcMessage } from '../core/jsonrpc.ts'
import type { SessionState } from '../core/session.ts'
import { formatEventId, type Attachment, type StreamSink, type Streams } from '../core/streams.ts'
import type { Principal } from '../core/types.ts'
import { versionAtLeast } from '../core/versions.ts'
import type { RevocationWatcher } from './revocation-watcher.ts'
import { SseStream, type SseStreamOwner } from './sse-stream.ts'
import type { StreamSlot } from './stream-limits.ts'

export interface SseReplyOptions {
  streams: Streams
  keepAliveMs: number
  /** Bytes a reply may queue for a client that does not read before it is closed. */
  maxBufferedBytes?: number
  sseRetryMs: number
  revocations?: Pick<RevocationWatcher, 'track'>
  /** Runs on every keep-alive tick: an open stream keeps its session from idling out. */
  touch(sessionId: string): void
  /** Runs when a reply's stream closes (shared by all replies, so none needs a closure of its own). */
  closed?(reply: { sessionId: string; standalone: boolean }): void
}

export interface SseReplyRequest {
  streamId: string
  session: SessionState
  principal: Principal
  /** Replay after this seq, or deliver only what comes next. */
  afterSeq: number | 'live'
  headers: Readonly<Record<string, string>>
  /** Send a priming event first (SEP-1699) when the session's version allows it. */
  prime: boolean
  /** The session's standalone (GET) stream, as opposed to a POST reply's. */
  standalone?: boolean
  onOpen?: (sse: SseStream) => void
  /** Released when the reply closes (or never opens): its place in the stream limits. */
  slot?: StreamSlot
}

/**
 * One open reply: the stream's sink and the SSE stream's owner at once. A class with methods, not
 * a nest of closures: idle streams are held by the thousand, and closures are what they cost most.
 */
class SseReply implements StreamSink, SseStreamOwner {
  readonly sse: SseStream
  attachment: Attachment | undefined
  untrack: (() => void) | undefined
  readonly #o: SseReplyOptions
  readonly #streamId: string
  readonly #afterSeq: number | 'live'
  /** The priming event's version rule, decided once. */
  readonly #prime: boolean
  readonly sessionId: string
  readonly standalone: boolean
  readonly #slot: StreamSlot | undefined

  constructor(o: SseReplyOptions, r: SseReplyRequest) {
    this.#o = o
    this.#streamId = r.streamId
    this.#afterSeq = r.afterSeq
    // Clients older than 2025-11-25 choke on the priming event's empty data line.
    this.#prime = r.prime && versionAtLeast(r.session.protocolVersion, '2025-11-25')
    this.sessionId = r.session.id
    this.standalone = r.standalone ?? false
    this.#slot = r.slot
    this.sse = new SseStream({ keepAliveMs: o.keepAliveMs, maxBufferedBytes: o.maxBufferedBytes, owner: this })
  }

  /** For the revocation watcher. */
  close(): void {
    this.sse.close()
  }

  ready(position: number): void {
    // Priming (SEP-1699): an id the client can resume from before any message arrives.
    if (this.#prime) this.sse.event('', { id: formatEventId(this.#streamId, this.#afterSeq === 'live' ? position : this.#afterSeq), retryMs: this.#o.sseRetryMs })
    // Bun sends the status line and headers with the first body bytes: without this comment a
    // GET would stay unanswered until the first event or keep-alive.
    else this.sse.comment('open')
  }
  event(seq: number, message: JsonRpcMessage): void {
    this.sse.event(JSON.stringify(message), { id: formatEventId(this.#streamId, seq), event: 'message' })
  }
  end(): void {
    this.sse.close()
  }
  takenOver(): void {
    this.sse.close()
  }
  sseKeepAlive(): void {
    this.#o.touch(this.sessionId)
  }
  sseClosed(): void {
    this.attachment?.detach()
    this.untrack?.()
    this.#slot?.release()
    this.#o.closed?.(this)
  }
}

/** The SSE response following `r.streamId`, or undefined when the session has no such stream. */
export async function openSseReply(o: SseReplyOptions, r: SseReplyRequest): Promise<Response | undefined> {
  const reply = new SseReply(o, r)
  const sse = reply.sse
  // A revoked auth session (logout) closes its streams; the client's next request gets 401.
  if (o.revocations && r.principal.authSessionId !== undefined) reply.untrack = o.revocations.track(r.principal, reply.close.bind(reply))
  let attachment: Attachment | undefined
  try {
    attachment = await o.streams.attach({ sessionId: r.session.id, streamId: r.streamId }, r.afterSeq, reply)
  } catch (err) {
    sse.close()
    throw err
  }
  if (!attachment) {
    sse.close()
    return undefined
  }
  reply.attachment = attachment
  if (sse.closed) attachment.detach()
  r.onOpen?.(sse)
  return sse.response(r.headers)
}
