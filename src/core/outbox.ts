/**
 * @module core/outbox
 * Messages that belong to no request (list_changed, resources/updated, unrelated log lines) go
 * to the session's standalone stream, whichever instance holds its connection. Broadcasts travel
 * over the bus to every instance, and each writes them to the sessions whose connections it holds
 * (it alone knows them; a broadcast is rare and a store-wide session list would be costly).
 */
import type { Bus, Unsubscribe } from './bus.ts'
import type { JsonRpcMessage } from './jsonrpc.ts'
import { STANDALONE_STREAM, type Streams } from './streams.ts'
import { BROADCAST } from './topics.ts'

export class SessionOutbox {
  readonly #streams: Streams
  readonly #bus: Bus
  /** Session id → number of session-level connections this instance holds for it. */
  readonly #held = new Map<string, number>()
  #unsubscribe: Unsubscribe = () => {}

  constructor(streams: Streams, bus: Bus) {
    this.#streams = streams
    this.#bus = bus
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#bus.subscribe(BROADCAST, (message) => {
      for (const id of this.#held.keys()) void this.toSession(id, message)
    })
  }

  close(): void {
    this.#unsubscribe()
  }

  /** Resolves false when the message could not be written (the session's stream ended). */
  async toSession(sessionId: string, message: JsonRpcMessage): Promise<boolean> {
    try {
      return (await this.#streams.write({ sessionId, streamId: STANDALONE_STREAM }, [message])) !== undefined
    } catch (err) {
      // A shared store that is down: the notification is lost, and the log says so.
      console.error(`[outbox] could not write to session ${sessionId}:`, err instanceof Error ? err.message : err)
      return false
    }
  }

  broadcast(message: JsonRpcMessage): Promise<void> {
    return this.#bus.publish(BROADCAST, message)
  }

  /** A transport holds a live session-level connection here; broadcasts should reach it. */
  hold(sessionId: string): void {
    this.#held.set(sessionId, (this.#held.get(sessionId) ?? 0) + 1)
  }

  release(sessionId: string): void {
    const n = (this.#held.get(sessionId) ?? 0) - 1
    if (n <= 0) this.#held.delete(sessionId)
    else this.#held.set(sessionId, n)
  }

  /** Sessions whose connections this instance holds (metrics). */
  get heldSessions(): number {
    return this.#held.size
  }
}
