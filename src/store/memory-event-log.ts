/**
 * @module store/memory-event-log
 * Single-instance event log. Each stream keeps its newest `maxEvents` events; an ended stream is
 * kept for `retentionMs` so a client can still collect a response it missed, then swept.
 */
import type { JsonRpcMessage } from '../core/jsonrpc.ts'
import type { EventLog, LoggedEvent, StreamInfo } from './event-log.ts'

interface Stream {
  sessionId: string
  ended: boolean
  lastSeq: number
  events: LoggedEvent[]
  /** Swept after this time; pushed forward on every append. */
  expiresAt: number
}

export class MemoryEventLog implements EventLog {
  readonly #streams = new Map<string, Stream>()
  /** A session's streams: one id alone until it has a second (most sessions only ever have one). */
  readonly #bySession = new Map<string, string | Set<string>>()
  readonly #maxEvents: number
  /** Ended streams kept for resumption, oldest first; past `#maxEnded` the oldest go early. */
  readonly #ended = new Set<string>()
  readonly #maxEnded: number
  readonly #retentionMs: number
  readonly #now: () => number
  readonly #sweep: ReturnType<typeof setInterval>

  constructor(opts: { maxEvents?: number; maxEndedStreams?: number; retentionMs: number; now?: () => number }) {
    this.#maxEvents = opts.maxEvents ?? 1000
    this.#maxEnded = opts.maxEndedStreams ?? 10_000
    this.#retentionMs = opts.retentionMs
    this.#now = opts.now ?? Date.now
    this.#sweep = setInterval(() => this.#expire(), Math.min(60_000, opts.retentionMs))
    this.#sweep.unref?.()
  }

  async open(streamId: string, sessionId: string): Promise<void> {
    if (this.#streams.has(streamId)) return
    this.#streams.set(streamId, { sessionId, ended: false, lastSeq: 0, events: [], expiresAt: this.#now() + this.#retentionMs })
    const had = this.#bySession.get(sessionId)
    if (had === undefined) this.#bySession.set(sessionId, streamId)
    else if (typeof had === 'string') this.#bySession.set(sessionId, new Set([had, streamId]))
    else had.add(streamId)
  }

  async append(streamId: string, message: JsonRpcMessage): Promise<number> {
    const s = this.#streams.get(streamId)
    if (!s) throw new Error(`event log: stream ${streamId} is not open`)
    const seq = ++s.lastSeq
    s.events.push({ seq, message })
    if (s.events.length > this.#maxEvents) s.events.shift()
    s.expiresAt = this.#now() + this.#retentionMs
    return seq
  }

  async end(streamId: string): Promise<void> {
    const s = this.#streams.get(streamId)
    if (!s || s.ended) return
    s.ended = true
    s.expiresAt = this.#now() + this.#retentionMs
    // A busy server ends thousands of reply streams a second: bound them by count, not only age.
    this.#ended.add(streamId)
    if (this.#ended.size > this.#maxEnded) {
      const oldest = this.#ended.values().next().value!
      this.#forget(oldest)
    }
  }

  async info(streamId: string): Promise<StreamInfo | undefined> {
    const s = this.#streams.get(streamId)
    return s && { sessionId: s.sessionId, ended: s.ended, lastSeq: s.lastSeq }
  }

  async after(streamId: string, seq: number): Promise<LoggedEvent[]> {
    const s = this.#streams.get(streamId)
    if (!s) return []
    return s.events.filter((e) => e.seq > seq)
  }

  async dropSession(sessionId: string): Promise<void> {
    const ids = this.#bySession.get(sessionId)
    for (const id of typeof ids === 'string' ? [ids] : (ids ?? [])) {
      this.#streams.delete(id)
      this.#ended.delete(id)
    }
    this.#bySession.delete(sessionId)
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep)
  }

  get streamCount(): number {
    return this.#streams.size
  }

  #expire(): void {
    const now = this.#now()
    for (const [id, s] of this.#streams) {
      // Open streams are kept while their session lives; the session end drops them.
      if (!s.ended || s.expiresAt > now) continue
      this.#forget(id)
    }
  }

  #forget(id: string): void {
    const s = this.#streams.get(id)
    this.#ended.delete(id)
    if (!s) return
    this.#streams.delete(id)
    const ids = this.#bySession.get(s.sessionId)
    if (ids === id) this.#bySession.delete(s.sessionId)
    else if (typeof ids === 'object') ids.delete(id)
  }
}
