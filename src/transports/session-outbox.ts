/**
 * @module transports/session-outbox
 * The core's `Outbox`: messages that belong to no request go to the session's standalone stream.
 * Broadcasts travel over the bus to every instance, and each instance writes them to the
 * sessions whose connections it holds.
 */
import type { Bus, Unsubscribe } from '../bus/bus.ts'
import type { JsonRpcMessage } from '../core/jsonrpc.ts'
import type { Outbox } from '../core/ports.ts'
import { standaloneStreamId, type StreamHub } from './stream-hub.ts'

const BROADCAST_TOPIC = 'mcprag:broadcast'

export class SessionOutbox implements Outbox {
  readonly #hub: StreamHub
  readonly #bus: Bus
  /** Session id → number of session-level connections this instance holds for it. */
  readonly #held = new Map<string, number>()
  #unsubscribe: Unsubscribe = () => {}

  constructor(hub: StreamHub, bus: Bus) {
    this.#hub = hub
    this.#bus = bus
  }

  async start(): Promise<void> {
    this.#unsubscribe = await this.#bus.subscribe(BROADCAST_TOPIC, (message) => {
      for (const id of this.#held.keys()) void this.toSession(id, message as JsonRpcMessage)
    })
  }

  close(): void {
    this.#unsubscribe()
  }

  async toSession(sessionId: string, message: JsonRpcMessage): Promise<void> {
    try {
      await this.#hub.write(standaloneStreamId(sessionId), message)
    } catch {
      // The session ended meanwhile: there is nobody left to tell.
    }
  }

  broadcast(message: JsonRpcMessage): Promise<void> {
    return this.#bus.publish(BROADCAST_TOPIC, message)
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
}
