/**
 * @module transports/message-pacer
 * Works through incoming WebSocket messages in slices of event-loop time.
 *
 * Bun hands the frames of one socket read to the message handler one after another and returns to
 * the event loop only when all of them are handled. A client that writes tens of thousands of
 * cheap requests at once therefore held every other client, and `/health`, for as long as all their
 * answers took (85–130 ms for 50,000 `tools/list` frames, issue 13's M2). Past `sliceMs` of such
 * work in one turn, messages wait in their connection's queue and are worked through in the turns
 * that follow, a slice at a time, one message per connection in turn, each connection's in the
 * order they came. A message that would take a connection's waiting messages past `maxQueuedBytes`
 * is refused (its caller closes the connection), so waiting costs bounded memory.
 */

/** What handling one message returns: a promise when part of the work is still to come. */
type Handled = void | Promise<void>

export interface MessagePacerOptions<C> {
  handle: (conn: C, data: string) => Handled
  /** Event-loop time spent on messages before the rest waits for the next turn. */
  sliceMs: number
  /** Bytes of messages one connection may have waiting. */
  maxQueuedBytes: number
  now?: () => number
}

interface Waiting {
  messages: string[]
  /** Index of the next message to handle (the array is dropped whole once worked through). */
  next: number
  bytes: number
}

export class MessagePacer<C> {
  readonly #o: MessagePacerOptions<C>
  readonly #now: () => number
  readonly #waiting = new Map<C, Waiting>()
  /** When the current turn's slice began; undefined until a message arrives in a new turn. */
  #sliceStart: number | undefined
  #draining = false

  constructor(opts: MessagePacerOptions<C>) {
    this.#o = opts
    this.#now = opts.now ?? (() => performance.now())
  }

  /** Messages waiting, across connections (tests, metrics). */
  get waiting(): number {
    let n = 0
    for (const w of this.#waiting.values()) n += w.messages.length - w.next
    return n
  }

  /**
   * Handle `data` now while this turn's slice lasts, or queue it behind the connection's waiting
   * messages. False when the connection already has `maxQueuedBytes` waiting: nothing was queued.
   */
  offer(conn: C, data: string): boolean {
    const waiting = this.#waiting.get(conn)
    if (waiting) return this.#queue(waiting, data)
    if (this.#withinSlice()) {
      void this.#o.handle(conn, data)
      return true
    }
    const fresh: Waiting = { messages: [], next: 0, bytes: 0 }
    this.#waiting.set(conn, fresh)
    this.#queue(fresh, data)
    this.#scheduleDrain()
    return true
  }

  /** Drop what a connection has waiting (it closed). */
  forget(conn: C): void {
    this.#waiting.delete(conn)
  }

  /** One message always fits, however large (its size is the body limit's business). */
  #queue(waiting: Waiting, data: string): boolean {
    if (waiting.bytes > 0 && waiting.bytes + data.length > this.#o.maxQueuedBytes) return false
    waiting.messages.push(data)
    waiting.bytes += data.length
    return true
  }

  /** Opens a slice on the first message of a turn; true while the slice has time left. */
  #withinSlice(): boolean {
    const now = this.#now()
    if (this.#sliceStart === undefined) {
      this.#sliceStart = now
      // Runs once Bun is back in the event loop, i.e. in the next turn.
      setImmediate(() => (this.#sliceStart = undefined))
    }
    return now - this.#sliceStart < this.#o.sliceMs
  }

  #scheduleDrain(): void {
    if (this.#draining) return
    this.#draining = true
    setImmediate(() => void this.#drain())
  }

  /**
   * One slice of waiting messages, one per connection in turn (a connection with more goes to the
   * back of the line, across slices too); the rest in a later turn.
   */
  async #drain(): Promise<void> {
    const start = this.#now()
    try {
      while (this.#waiting.size > 0 && this.#now() - start < this.#o.sliceMs) {
        const [conn, waiting] = this.#waiting.entries().next().value!
        this.#waiting.delete(conn)
        const data = waiting.messages[waiting.next++]!
        waiting.bytes -= data.length
        if (waiting.next < waiting.messages.length) this.#waiting.set(conn, waiting)
        try {
          const handled = this.#o.handle(conn, data)
          // Awaited so that its work counts against this slice (a budget check answers later).
          if (handled) await handled
        } catch (err) {
          console.error('[ws] handling a client message failed:', err)
        }
      }
    } finally {
      this.#draining = false
      if (this.#waiting.size > 0) this.#scheduleDrain()
    }
  }
}
