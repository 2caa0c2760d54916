/**
 * @module bus/bus
 * The seam that carries events between the parts of the server, and between instances when a
 * shared implementation (Redis pub/sub) is plugged in. It carries events (JSON values), never
 * wire frames: SSE ids, WebSocket frames and keep-alives belong to the transport that owns a stream.
 */
export type BusHandler = (payload: unknown) => void
export type Unsubscribe = () => void

export interface Bus {
  /** Deliver to every subscriber of `topic` on every instance. Order per topic is preserved. */
  publish(topic: string, payload: unknown): Promise<void>
  /** Returns an idempotent unsubscribe. Resolves once the subscription is live. */
  subscribe(topic: string, handler: BusHandler): Promise<Unsubscribe>
  close(): Promise<void>
}
