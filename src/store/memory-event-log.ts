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
  readonly #bySession = new Map<string, Set<string>>()
  readonly #maxEvents: number
  readonly #retentionMs: number
  readonly #now: () => number
  readonly #sweep: ReturnType<typeof setInterval>

  constructor(opts: { maxEvents?: number; retentionMs: number; now?: () => number }) {
    this.#maxEvents = opts.maxEvents ?? 1000
    this.#retentionMs = opts.retentionMs
    this.#now = opts.now ?? Date.now
    this.#sweep = setInterval(() => this.#expire(), Math.min(60_000, opts.retentionMs))
    this.#sweep.unref?.()
  }

  async open(streamId: string, sessionId: string): Promise<void> {
    if (this.#streams.has(streamId)) return
    this.#streams.set(streamId, { sessionId, ended: false, lastSeq: 0, events: [], expiresAt: this.#now() + this.#retentionMs })
    let set = this.#bySession.get(sessionId)
    if (!set) this.#bySession.set(sessionId, (set = new Set()))
    set.add(streamId)
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
    if (s) {
      s.ended = true
      s.expiresAt = this.#now() + this.#retentionMs
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
    for (const id of this.#bySession.get(sessionId) ?? []) this.#streams.delete(id)
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
      this.#streams.delete(id)
      this.#bySession.get(s.sessionId)?.delete(id)
    }
  }
}
