/**
 * @module core/streams
 * The seam for resumable message streams. Every message written to a stream is logged first and
 * then delivered to whoever follows the stream (on this instance or another), so a client that
 * lost its connection can resume from the last event id it saw. A session owns its streams: its
 * standalone stream (the GET stream, or the one connection of legacy SSE and WebSocket) and one
 * stream per POST reply that became SSE. Positions (`seq`) increase within a session, so they are
 * unique across its streams and a follower can tell a gap from a message of another stream.
 */
import type { JsonRpcMessage, RequestId } from './jsonrpc.ts'

export interface StreamRef {
  sessionId: string
  streamId: string
}

export interface StreamOptions {
  /** Delivered live only, never logged: the transport cannot resume (legacy SSE, WebSocket). */
  ephemeral?: boolean
  /** The requests whose responses this stream carries: answered with an error if its writer dies. */
  requestIds?: RequestId[]
}

/** Who follows a stream: one connection. */
export interface StreamSink {
  /** Called once, before any event: the stream's position at the time of attaching. */
  ready?(position: number): void
  event(seq: number, message: JsonRpcMessage): void
  /** The stream finished (or the session ended): close the connection. */
  end(): void
  /** Another connection attached to the same stream (last attach wins); this one should close. */
  takenOver?(): void
}

export interface Attachment {
  /** Stop delivery. Idempotent. */
  detach(): void
}

/**
 * What every implementation's follower does alike: once detached it delivers nothing more, and
 * the end of its stream or a takeover detaches it before the sink hears of it. Subclasses say what
 * detaching lets go of (`released`).
 */
export abstract class Follower implements Attachment {
  #detached = false

  constructor(readonly sink: StreamSink) {}

  get detached(): boolean {
    return this.#detached
  }

  detach(): void {
    if (this.#detached) return
    this.#detached = true
    this.released()
  }

  end(): void {
    if (this.#detached) return
    this.detach()
    this.sink.end()
  }

  takeOver(): void {
    if (this.#detached) return
    this.detach()
    this.sink.takenOver?.()
  }

  /** Called once, on the first detach. */
  protected abstract released(): void
}

export interface Streams {
  /** Declare a stream before writing to it. Standalone streams exist without being opened. */
  open(ref: StreamRef, opts?: StreamOptions): Promise<void>
  /**
   * Log (unless ephemeral) and deliver messages in order, atomically with respect to other
   * writers. Resolves with the last message's position, or undefined when the stream has ended
   * (the write is dropped: a late writer never reopens a finished stream). A session's log is
   * bounded in bytes (the implementation's setting; the newest event always stays): older events
   * are trimmed in the same step, and a resumption from before them replays what is left.
   */
  write(ref: StreamRef, messages: readonly JsonRpcMessage[]): Promise<number | undefined>
  /** Finish a stream: its followers get `end` after every message written before. Idempotent. */
  end(ref: StreamRef): Promise<void>
  /**
   * Follow a stream: logged events after position `after` (of this stream only), then live ones;
   * 'live' skips the log. Resolves with undefined when the session has no such stream (a
   * Last-Event-ID of another session, or garbage). A finished stream ends the sink once replayed.
   */
  attach(ref: StreamRef, after: number | 'live', sink: StreamSink): Promise<Attachment | undefined>
  /** Forget every stream of a session; their followers get `end`. Idempotent. */
  dropSession(sessionId: string): Promise<void>
  close(): Promise<void>
}

/** The id of a session's standalone stream (GET stream, or the one connection of SSE/WebSocket). */
export const STANDALONE_STREAM = 's'

/** SSE event ids are `<streamId>:<seq>`, so a Last-Event-ID names both the stream and a position. */
export function formatEventId(streamId: string, seq: number): string {
  return `${streamId}:${seq}`
}

export function parseEventId(value: string): { streamId: string; seq: number } | undefined {
  const at = value.lastIndexOf(':')
  // Stream ids are short (a UUID at most): a longer one is garbage, not a key to look up.
  if (at <= 0 || at > 64) return undefined
  const digits = value.slice(at + 1)
  if (!/^[0-9]{1,15}$/.test(digits)) return undefined
  return { streamId: value.slice(0, at), seq: Number(digits) }
}
