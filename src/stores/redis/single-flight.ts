/**
 * @module stores/redis/single-flight
 * Concurrent reads of one key share one round trip. When a cached entry ages out under load,
 * every request in flight misses it at once; without this, each would read Redis (a burst of as
 * many reads as there are connections, every cache period).
 *
 * `epoch` moves on whenever a change is announced: a read that started before it may have seen
 * the old value, so it is neither joined by later callers nor allowed to fill the cache.
 */
export class SingleFlight<T> {
  readonly #reads = new Map<string, Promise<T>>()
  #epoch = 0

  /** The current epoch: pass it back to `current` once a read is done. */
  get epoch(): number {
    return this.#epoch
  }

  /** Whether nothing was announced since `epoch` (a read that started then may fill the cache). */
  current(epoch: number): boolean {
    return epoch === this.#epoch
  }

  /** Join the read of `key` in flight, or start one with `read`. */
  run(key: string, read: () => Promise<T>): Promise<T> {
    const going = this.#reads.get(key)
    if (going) return going
    const started = read().finally(() => {
      if (this.#reads.get(key) === started) this.#reads.delete(key)
    })
    this.#reads.set(key, started)
    return started
  }

  /** A change was announced: reads in flight are not joined any more, nor cached. */
  changed(): void {
    this.#epoch++
    this.#reads.clear()
  }
}
