/**
 * @module stores/memory/memory-bus
 * In-process bus for a single instance. Delivery is synchronous, so publish order is delivery
 * order, and nothing is ever lost (so `onReconnect` never fires).
 */
import type { Bus, Topic, Unsubscribe } from '../../core/bus.ts'

/** One subscription; a fresh object per subscribe, so the same function may subscribe twice. */
interface Entry {
  handler: (payload: never) => void
}

export class MemoryBus implements Bus {
  /** Most topics have a single subscriber: it is stored bare, without a Set. */
  readonly #topics = new Map<string, Entry | Set<Entry>>()

  async publish<T>(topic: Topic<T>, payload: T): Promise<void> {
    const subs = this.#topics.get(topic.name)
    if (subs === undefined) return
    if (!(subs instanceof Set)) return call(topic.name, subs, payload)
    for (const e of [...subs]) call(topic.name, e, payload)
  }

  subscribe<T>(topic: Topic<T>, handler: (payload: T) => void): Promise<Unsubscribe> {
    const entry: Entry = { handler: handler as (payload: never) => void }
    const subs = this.#topics.get(topic.name)
    if (subs === undefined) this.#topics.set(topic.name, entry)
    else if (subs instanceof Set) subs.add(entry)
    else this.#topics.set(topic.name, new Set([subs, entry]))
    return Promise.resolve(this.#remove.bind(this, topic.name, entry))
  }

  onReconnect(): Unsubscribe {
    return NOOP
  }

  get hearing(): boolean {
    return true
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
    entry.handler(payload as never)
  } catch (err) {
    console.error(`[bus] handler for ${topic} threw:`, err)
  }
}

const NOOP = () => {}
