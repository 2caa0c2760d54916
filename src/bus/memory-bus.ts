/**
 * @module bus/memory-bus
 * In-process bus for a single instance. Delivery is synchronous, so publish order is delivery order.
 */
import type { Bus, BusHandler, Unsubscribe } from './bus.ts'

export class MemoryBus implements Bus {
  readonly #topics = new Map<string, Set<BusHandler>>()

  async publish(topic: string, payload: unknown): Promise<void> {
    this.deliver(topic, payload)
  }

  /** Synchronous publish, for callers on a hot path that share this process. */
  deliver(topic: string, payload: unknown): void {
    const handlers = this.#topics.get(topic)
    if (!handlers) return
    for (const h of [...handlers]) {
      // One failing listener must not starve the others.
      try {
        h(payload)
      } catch (err) {
        console.error(`[bus] handler for ${topic} threw:`, err)
      }
    }
  }

  async subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe> {
    let set = this.#topics.get(topic)
    if (!set) this.#topics.set(topic, (set = new Set()))
    // Wrap so subscribing the same function twice gives two independent subscriptions.
    const entry: BusHandler = (p) => handler(p)
    set.add(entry)
    return () => {
      const s = this.#topics.get(topic)
      if (!s) return
      s.delete(entry)
      if (s.size === 0) this.#topics.delete(topic)
    }
  }

  async close(): Promise<void> {
    this.#topics.clear()
  }

  /** Number of topics with subscribers (tests use it to prove clean-up). */
  get topicCount(): number {
    return this.#topics.size
  }
}
