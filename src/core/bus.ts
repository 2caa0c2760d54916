/**
 * @module core/bus
 * The seam that carries events between the parts of the server and, with a shared implementation
 * (Redis pub/sub), between instances. It carries events (small JSON values), never wire frames:
 * SSE ids, WebSocket frames and keep-alives belong to the transport that owns a connection, and
 * stream messages travel through `Streams`, which logs them first.
 *
 * Guarantee: at most once, in publish order per topic and publisher. A memory bus delivers every
 * event; a network bus loses what is published while an instance is disconnected from it. Every
 * subscriber states who repairs a loss: streams fill gaps from their log, caches expire on their
 * own, revocations are swept, replies to server requests are kept until taken (see `topics.ts`).
 */

/** A topic name bound to the type of its payload, so publishers and subscribers agree. */
export interface Topic<T> {
  readonly name: string
  /** Never set: carries the payload type only. */
  readonly payload?: T
}

export const topic = <T>(name: string): Topic<T> => ({ name })

export type Unsubscribe = () => void

export interface Bus {
  /** Deliver to every subscriber of `topic` on every instance (this one included). */
  publish<T>(topic: Topic<T>, payload: T): Promise<void>
  /**
   * Resolves once the subscription is live. The returned unsubscribe is synchronous and
   * idempotent. A handler that throws is logged and does not starve the others.
   */
  subscribe<T>(topic: Topic<T>, handler: (payload: T) => void): Promise<Unsubscribe>
  /**
   * Called after the bus reconnected to a shared broker, when events may have been lost meanwhile
   * (never, for a memory bus). Subscribers re-check what they cannot afford to miss.
   */
  onReconnect(listener: () => void): Unsubscribe
  /**
   * False while events published elsewhere may be missed (a network bus cut off from its broker;
   * always true for a memory bus). What stays valid only until an event says otherwise (a cache
   * dropped on a change notice) is not to be trusted meanwhile.
   */
  readonly hearing: boolean
  close(): Promise<void>
}
