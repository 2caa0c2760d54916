/**
 * @module bus/memory-bus
 * In-process bus for a single instance. Delivery is synchronous, so publish order is delivery order.
 */
import type { Bus, BusHandler, Unsubscribe } from './bus.ts'

/** One subscription; a fresh object per subscribe, so the same function may subscribe twice. */
interface Entry {
  handler: BusHandler
}

export class MemoryBus implements Bus {
  /** Most topics (one per open stream) have a single subscriber: it is stored bare, without a Set. */
  readonly #topics = new Map<string, Entry | Set<Entry>>()

  async publish(topic: string, payload: unknown): Promise<void> {
    this.deliver(topic, payload)
  }

  /** Synchronous publish, for callers on a hot path that share this process. */
  deliver(topic: string, payload: unknown): void {
    const subs = this.#topics.get(topic)
    if (subs === undefined) return
    if (!(subs instanceof Set)) return call(topic, subs, payload)
    for (const e of [...subs]) call(topic, e, payload)
  }

  subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe> {
    const entry: Entry = { handler }
    const subs = this.#topics.get(topic)
    if (subs === undefined) this.#topics.set(topic, entry)
    else if (subs instanceof Set) subs.add(entry)
    else this.#topics.set(topic, new Set([subs, entry]))
    // Bound, not a closure: one small object per subscription (streams hold one each, by the thousand).
    return Promise.resolve(this.#remove.bind(this, topic, entry))
  }

  async close(): Promise<void> {
    this.#topics.clear()
  }

  /** Number of topics with subscribers (tests use it to prove clean-up). */
  get topicCount(): number {
    return this.#topics.size
  }

  #remove(topic: string, entry: Entry): void {
    const subs = this.#topics.get(topic)
    if (subs === entry) this.#topics.delete(topic)
    else if (subs instanceof Set) {
      subs.delete(entry)
      if (subs.size === 0) this.#topics.delete(topic)
    }
  }
}

function call(topic: string, entry: Entry, payload: unknown): void {
  // One failing listener must not starve the others.
  try {
    entry.handler(payload)
  } catch (err) {
    console.error(`[bus] handler for ${topic} threw:`, err)
  }
}
