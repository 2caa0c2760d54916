/**
 * @module transports/slow-replies
 * Deadlines for replies that may turn out slow, on one shared coarse timer instead of a
 * `setTimeout` per request: almost every request finishes long before its deadline, and arming
 * and clearing a timer each time costs more than the request's own protocol work.
 */
interface Watch {
  deadline: number
  onLate: () => void
}

export class SlowReplies {
  readonly #watches = new Set<Watch>()
  readonly #afterMs: number
  #timer: ReturnType<typeof setInterval> | undefined

  /** `onLate` runs between `afterMs` and `afterMs + afterMs / 4` after `watch`. */
  constructor(afterMs: number) {
    this.#afterMs = afterMs
  }

  /** Start a deadline; pass the result to `unwatch` once the reply is decided. */
  watch(onLate: () => void): Watch {
    const w: Watch = { deadline: performance.now() + this.#afterMs, onLate }
    this.#watches.add(w)
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#tick(), Math.max(10, this.#afterMs / 4))
      this.#timer.unref?.()
    }
    return w
  }

  unwatch(w: Watch): void {
    this.#watches.delete(w)
  }

  #tick(): void {
    if (this.#watches.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    const now = performance.now()
    for (const w of this.#watches) {
      if (w.deadline > now) continue
      this.#watches.delete(w)
      w.onLate()
    }
  }
}
