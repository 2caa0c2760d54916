/**
 * @module transports/stream-hub
 * Resumable message streams shared by every transport. Writing to a stream appends to the event
 * log, then publishes on the bus; whoever holds the client's connection (this instance or
 * another) attaches to the stream and receives the log's backlog followed by live events, each
 * exactly once and in order.
 */
import type { Bus, Unsubscribe } from '../bus/bus.ts'
import type { JsonRpcMessage } from '../core/jsonrpc.ts'
import type { EventLog } from '../store/event-log.ts'

type Frame = { seq: number; message: JsonRpcMessage } | { end: true } | { takeover: string }

export interface StreamSink {
  event(seq: number, message: JsonRpcMessage): void
  /** The stream finished: close the connection. */
  end(): void
  /** Another connection attached to the same stream; this one should close. */
  takenOver?(): void
}

const topic = (streamId: string) => `mcprag:stream:${streamId}`

/** The id of a session's standalone stream (GET stream, or the one connection of SSE/WebSocket). */
export const standaloneStreamId = (sessionId: string) => `s-${sessionId}`

/** SSE event ids are `<streamId>:<seq>`, so a Last-Event-ID names both the stream and a position. */
export function formatEventId(streamId: string, seq: number): string {
  return `${streamId}:${seq}`
}
export function parseEventId(value: string): { streamId: string; seq: number } | undefined {
  const at = value.lastIndexOf(':')
  if (at <= 0) return undefined
  const seq = Number(value.slice(at + 1))
  if (!Number.isSafeInteger(seq) || seq < 0) return undefined
  return { streamId: value.slice(0, at), seq }
}

export class StreamHub {
  readonly #log: EventLog
  readonly #bus: Bus
  /** Per-stream tail of pending writes, so appends keep their order even when the log is remote. */
  readonly #tails = new Map<string, Promise<unknown>>()

  constructor(log: EventLog, bus: Bus) {
    this.#log = log
    this.#bus = bus
  }

  get log(): EventLog {
    return this.#log
  }

  open(streamId: string, sessionId: string): Promise<void> {
    return this.#enqueue(streamId, () => this.#log.open(streamId, sessionId))
  }

  /** Append a message and publish it to the stream's live listeners. Resolves with its seq. */
  write(streamId: string, message: JsonRpcMessage): Promise<number> {
    return this.#enqueue(streamId, async () => {
      const seq = await this.#log.append(streamId, message)
      await this.#bus.publish(topic(streamId), { seq, message } satisfies Frame)
      return seq
    })
  }

  /** Mark the stream finished; attached connections close after delivering everything. */
  end(streamId: string): Promise<void> {
    return this.#enqueue(streamId, async () => {
      await this.#log.end(streamId)
      await this.#bus.publish(topic(streamId), { end: true } satisfies Frame)
    })
  }

  /**
   * Deliver events with seq > `afterSeq` (from the log, then live), or only live events when
   * `afterSeq` is 'live'. Ends the sink at once if the stream has already ended and everything
   * was replayed. `detach()` on the result stops delivery.
   */
  async attach(streamId: string, afterSeq: number | 'live', sink: StreamSink): Promise<Attachment> {
    const a = new Attachment(sink, afterSeq)
    a.unsubscribe = await this.#bus.subscribe(topic(streamId), a.onFrame)
    await this.#bus.publish(topic(streamId), { takeover: a.id } satisfies Frame)
    if (afterSeq !== 'live') {
      for (const e of await this.#log.after(streamId, afterSeq)) a.deliver(e)
    }
    a.goLive()
    if (!a.detached) {
      const info = await this.#log.info(streamId)
      if (!info || (info.ended && info.lastSeq <= a.lastSeq)) a.deliver({ end: true })
    }
    return a
  }

  #enqueue<T>(streamId: string, work: () => Promise<T>): Promise<T> {
    const prev = this.#tails.get(streamId) ?? Promise.resolve()
    const next = prev.then(work, work)
    const tail = next.catch(() => {})
    this.#tails.set(streamId, tail)
    void tail.then(() => {
      if (this.#tails.get(streamId) === tail) this.#tails.delete(streamId)
    })
    return next
  }
}

/**
 * One connection following a stream. A class rather than closures: thousands of idle streams
 * each hold one, and per-connection closures cost more memory than the state they capture.
 */
export class Attachment {
  /** Tells this attachment's own takeover frame apart from another connection's. */
  readonly id = crypto.randomUUID()
  lastSeq: number
  detached = false
  unsubscribe: Unsubscribe = NOOP
  readonly #sink: StreamSink
  #buffered: Frame[] | undefined = []

  constructor(sink: StreamSink, afterSeq: number | 'live') {
    this.#sink = sink
    this.lastSeq = afterSeq === 'live' ? Number.POSITIVE_INFINITY : afterSeq
  }

  /** The bus handler: frames wait in a buffer until the backlog has been replayed. */
  readonly onFrame = (p: unknown): void => {
    const f = p as Frame
    if (this.#buffered === undefined || 'takeover' in f) this.deliver(f)
    else this.#buffered.push(f)
  }

  goLive(): void {
    const buffered = this.#buffered ?? []
    this.#buffered = undefined
    for (const f of buffered) this.deliver(f)
  }

  deliver(f: Frame | LoggedFrame): void {
    if (this.detached) return
    if ('takeover' in f) {
      if (f.takeover !== this.id) {
        this.detach()
        this.#sink.takenOver?.()
      }
    } else if ('end' in f) {
      this.detach()
      this.#sink.end()
    } else if (f.seq > this.lastSeq || this.lastSeq === Number.POSITIVE_INFINITY) {
      this.lastSeq = f.seq
      this.#sink.event(f.seq, f.message)
    }
  }

  detach(): void {
    this.detached = true
    this.unsubscribe()
  }
}

type LoggedFrame = { seq: number; message: JsonRpcMessage }
const NOOP = () => {}
