/**
 * @module stores/memory/memory-streams
 * Single-instance streams. Each session has one log of its recent events (the newest, any
 * stream, at most `maxEvents` and `maxBytes` of them, always the newest one) and positions that
 * increase across its streams; a write is logged and delivered to the stream's follower in the
 * same synchronous step, so nothing is reordered or lost. A session's log outlives its last write
 * or attach by `retentionMs`, then is swept. Ephemeral streams (legacy SSE, WebSocket) log nothing.
 */
import type { JsonRpcMessage } from '../../core/jsonrpc.ts'
import { Follower, STANDALONE_STREAM, type Attachment, type StreamOptions, type StreamRef, type StreamSink, type Streams } from '../../core/streams.ts'

interface Logged {
  seq: number
  streamId: string
  message: JsonRpcMessage
  /** Its size as JSON (characters), counted against `maxBytes`. */
  size: number
}

interface StreamRecord {
  ended: boolean
  ephemeral: boolean
  /** Position of the stream's newest message; ended records older than the log are forgotten. */
  lastSeq: number
}

/** Ended streams a session keeps a record of before those already trimmed from its log go. */
const RECORDS_BEFORE_CLEANUP = 64

class SessionStreams {
  seq = 0
  readonly events: Logged[] = []
  /** The sizes of `events`, summed. */
  bytes = 0
  readonly records = new Map<string, StreamRecord>()
  readonly followers = new Map<string, MemoryFollower>()
  expiresAt = 0
}

/** One connection following a stream (a class: thousands of idle streams hold one each). */
class MemoryFollower extends Follower {
  constructor(
    readonly owner: SessionStreams,
    readonly streamId: string,
    sink: StreamSink,
  ) {
    super(sink)
  }

  protected released(): void {
    if (this.owner.followers.get(this.streamId) === this) this.owner.followers.delete(this.streamId)
  }
}

export interface MemoryStreamsOptions {
  /** How long a session's log outlives its last write or attach. */
  retentionMs: number
  /** Events kept per session (oldest trimmed first). */
  maxEvents?: number
  /** Bytes of events (as JSON) kept per session, oldest trimmed first; the newest event always stays. */
  maxBytes?: number
  now?: () => number
}

export class MemoryStreams implements Streams {
  readonly #sessions = new Map<string, SessionStreams>()
  readonly #retentionMs: number
  readonly #maxEvents: number
  readonly #maxBytes: number
  readonly #now: () => number
  readonly #sweep: ReturnType<typeof setInterval>

  constructor(opts: MemoryStreamsOptions) {
    this.#retentionMs = opts.retentionMs
    this.#maxEvents = opts.maxEvents ?? 1000
    this.#maxBytes = opts.maxBytes ?? 1024 * 1024
    this.#now = opts.now ?? Date.now
    this.#sweep = setInterval(() => this.#expire(), Math.min(60_000, opts.retentionMs))
    this.#sweep.unref?.()
  }

  async open(ref: StreamRef, opts: StreamOptions = {}): Promise<void> {
    const s = this.#session(ref.sessionId)
    if (!s.records.has(ref.streamId)) s.records.set(ref.streamId, { ended: false, ephemeral: opts.ephemeral === true, lastSeq: s.seq })
  }

  async write(ref: StreamRef, messages: readonly JsonRpcMessage[]): Promise<number | undefined> {
    const s = this.#session(ref.sessionId)
    const record = s.records.get(ref.streamId)
    if (record?.ended) return undefined
    const follower = s.followers.get(ref.streamId)
    for (const message of messages) {
      const seq = ++s.seq
      if (!record?.ephemeral) {
        const size = JSON.stringify(message).length
        s.events.push({ seq, streamId: ref.streamId, message, size })
        s.bytes += size
      }
      follower?.sink.event(seq, message)
    }
    if (record) record.lastSeq = s.seq
    this.#trim(s)
    return s.seq
  }

  async end(ref: StreamRef): Promise<void> {
    const s = this.#session(ref.sessionId)
    let record = s.records.get(ref.streamId)
    if (record?.ended) return
    if (!record) s.records.set(ref.streamId, (record = { ended: true, ephemeral: false, lastSeq: s.seq }))
    record.ended = true
    s.followers.get(ref.streamId)?.end()
    if (s.records.size > RECORDS_BEFORE_CLEANUP) this.#forgetTrimmed(s)
  }

  async attach(ref: StreamRef, after: number | 'live', sink: StreamSink): Promise<Attachment | undefined> {
    const known = ref.streamId === STANDALONE_STREAM || this.#sessions.get(ref.sessionId)?.records.has(ref.streamId)
    if (!known) return undefined
    const s = this.#session(ref.sessionId)
    s.followers.get(ref.streamId)?.takeOver()
    const follower = new MemoryFollower(s, ref.streamId, sink)
    s.followers.set(ref.streamId, follower)
    sink.ready?.(s.seq)
    if (after !== 'live') {
      for (const e of s.events) {
        if (e.seq > after && e.streamId === ref.streamId) sink.event(e.seq, e.message)
        // The sink may close the connection while it replays.
        if (follower.detached) return follower
      }
    }
    if (s.records.get(ref.streamId)?.ended) follower.end()
    return follower
  }

  async dropSession(sessionId: string): Promise<void> {
    const s = this.#sessions.get(sessionId)
    if (!s) return
    this.#sessions.delete(sessionId)
    for (const f of [...s.followers.values()]) f.end()
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep)
  }

  /** Sessions with a log (tests prove clean-up with it). */
  get sessionCount(): number {
    return this.#sessions.size
  }

  /** Bytes of events held in every session's log (tests prove the bounds with it). */
  get loggedBytes(): number {
    let n = 0
    for (const s of this.#sessions.values()) n += s.bytes
    return n
  }

  /** Drop the oldest events past `maxEvents` or `maxBytes`, keeping the newest one. */
  #trim(s: SessionStreams): void {
    let drop = Math.max(0, s.events.length - this.#maxEvents)
    let bytes = s.bytes
    for (let i = 0; i < drop; i++) bytes -= s.events[i]!.size
    while (bytes > this.#maxBytes && drop < s.events.length - 1) bytes -= s.events[drop++]!.size
    if (drop === 0) return
    s.events.splice(0, drop)
    s.bytes = bytes
  }

  /** The session's log, made on first use; every use keeps it `retentionMs` longer. */
  #session(sessionId: string): SessionStreams {
    let s = this.#sessions.get(sessionId)
    if (!s) this.#sessions.set(sessionId, (s = new SessionStreams()))
    s.expiresAt = this.#now() + this.#retentionMs
    return s
  }

  #forgetTrimmed(s: SessionStreams): void {
    const oldest = s.events[0]?.seq ?? s.seq + 1
    for (const [id, r] of s.records) if (r.ended && r.lastSeq < oldest && !s.followers.has(id)) s.records.delete(id)
  }

  #expire(): void {
    const now = this.#now()
    // A followed stream keeps its session's log: the follower is a live connection.
    for (const [id, s] of this.#sessions) if (s.expiresAt <= now && s.followers.size === 0) this.#sessions.delete(id)
  }
}
