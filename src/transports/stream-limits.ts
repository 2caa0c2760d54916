/**
 * @module transports/stream-limits
 * How many long-lived connections (GET and legacy SSE streams, WebSockets) one user and one client
 * address may hold open on this instance. Each holds a socket and a file descriptor of this
 * process, so they are counted here, per instance: a user past the limit is refused (429) until
 * one of its connections closes, and the process keeps descriptors for everyone else. A connection
 * that takes over a stream already followed (a client reconnecting with Last-Event-ID before its
 * dead connection was noticed) counts once with the one it replaces.
 */

export interface StreamCaps {
  perUser: number
  perAddress: number
}

/** Why a connection was refused: which limit, and its value. */
export interface StreamRefusal {
  limit: 'user' | 'address'
  max: number
}

/**
 * One counted connection; `release` gives its place back (idempotent). An object rather than a
 * closure: idle connections are held by the thousand, and a closure with its scope weighs more.
 */
export class StreamSlot {
  #limits: StreamLimits | undefined

  constructor(
    limits: StreamLimits,
    readonly key: string | undefined,
    readonly userId: string,
    readonly address: string | undefined,
  ) {
    this.#limits = limits
  }

  release(): void {
    const limits = this.#limits
    this.#limits = undefined
    limits?.released(this)
  }
}

export class StreamLimits {
  readonly #caps: StreamCaps
  readonly #byUser = new Map<string, number>()
  readonly #byAddress = new Map<string, number>()
  /** Stream key → connections following it (a takeover overlaps the connection it replaces). */
  readonly #keys = new Map<string, number>()

  constructor(caps: StreamCaps) {
    this.#caps = caps
  }

  /**
   * Count a connection of `userId` from `address`: its slot (release it when the connection
   * closes), or the refusal. With `key` (a resumable stream's), a connection to a stream already
   * followed shares its count; without, every connection is a new one.
   */
  open(userId: string, address: string | undefined, key?: string): StreamSlot | StreamRefusal {
    const following = key === undefined ? undefined : this.#keys.get(key)
    if (following !== undefined) this.#keys.set(key!, following + 1)
    else {
      if ((this.#byUser.get(userId) ?? 0) >= this.#caps.perUser) return { limit: 'user', max: this.#caps.perUser }
      if (address !== undefined && (this.#byAddress.get(address) ?? 0) >= this.#caps.perAddress) return { limit: 'address', max: this.#caps.perAddress }
      if (key !== undefined) this.#keys.set(key, 1)
      bump(this.#byUser, userId, 1)
      if (address !== undefined) bump(this.#byAddress, address, 1)
    }
    return new StreamSlot(this, key, userId, address)
  }

  /** Connections counted for a user (tests). */
  openFor(userId: string): number {
    return this.#byUser.get(userId) ?? 0
  }

  /** Called once per slot, by `StreamSlot.release`. */
  released(slot: StreamSlot): void {
    if (slot.key !== undefined) {
      const left = (this.#keys.get(slot.key) ?? 1) - 1
      if (left > 0) {
        this.#keys.set(slot.key, left)
        return
      }
      this.#keys.delete(slot.key)
    }
    bump(this.#byUser, slot.userId, -1)
    if (slot.address !== undefined) bump(this.#byAddress, slot.address, -1)
  }
}

function bump(counts: Map<string, number>, key: string, by: number): void {
  const n = (counts.get(key) ?? 0) + by
  if (n <= 0) counts.delete(key)
  else counts.set(key, n)
}

/** What a refused connection is told: which limit, its value, and what to do. */
export function streamRefusalMessage(r: StreamRefusal): string {
  const who = r.limit === 'user' ? 'this user' : 'this client address'
  const setting = r.limit === 'user' ? 'MCPRAG_MAX_STREAMS_PER_USER' : 'MCPRAG_MAX_STREAMS_PER_ADDRESS'
  return `Too many open streams for ${who} (at most ${r.max}, ${setting}): close one (or end a session) and try again`
}
