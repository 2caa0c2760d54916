/**
 * @module core/subscriptions
 * `subscriptions/listen` (2026-07-28): a request whose response is a long-lived stream of the
 * change notifications the client opted into (list changes, updates of named resources). It
 * replaces the 2025 GET stream and `resources/subscribe`, and needs no session.
 *
 * Changes travel as events on the bus, as they do for 2025 sessions: list changes on `BROADCAST`,
 * resource updates on `RESOURCE_UPDATED`. Each instance delivers them to the listen streams it
 * holds, so a change made on one instance reaches listeners on every instance. The hub only
 * filters and tags them (`_meta` subscriptionId); the stream itself belongs to the transport.
 */
import type { Bus, Unsubscribe } from './bus.ts'
import { META } from './envelope.ts'
import { invalidParams, type JsonRpcErrorObject } from './errors.ts'
import { notification, success, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type Params, type RequestId } from './jsonrpc.ts'
import type { Registry } from './registry.ts'
import { BROADCAST, RESOURCE_UPDATED } from './topics.ts'
import type { Implementation } from './types.ts'

/** Where a listen stream's messages go: the transport's open response. */
export interface ListenSink {
  send(message: JsonRpcMessage): void
  /** The subscription ended (server shutdown): close the response after what was sent. */
  end(): void
}

export interface Subscription {
  /** The client went away: stop delivering. Idempotent. */
  close(): void
}

/** The list-change filter flags and the notification each one admits. */
const LIST_FLAGS = {
  toolsListChanged: 'notifications/tools/list_changed',
  promptsListChanged: 'notifications/prompts/list_changed',
  resourcesListChanged: 'notifications/resources/list_changed',
} as const
type ListFlag = keyof typeof LIST_FLAGS
const FLAG_OF = new Map<string, ListFlag>(Object.entries(LIST_FLAGS).map(([flag, method]) => [method, flag as ListFlag]))

interface Listener {
  readonly id: RequestId
  readonly sink: ListenSink
  readonly flags: ReadonlySet<ListFlag>
  readonly uris: readonly string[]
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

export class Subscriptions {
  readonly #bus: Bus
  readonly #registry: Registry
  readonly #info: Implementation
  readonly #listeners = new Set<Listener>()
  /** URI → the listeners that asked for its updates. */
  readonly #byUri = new Map<string, Set<Listener>>()
  readonly #unsubscribes: Unsubscribe[] = []

  constructor(o: { bus: Bus; registry: Registry; info: Implementation }) {
    this.#bus = o.bus
    this.#registry = o.registry
    this.#info = o.info
  }

  async start(): Promise<void> {
    this.#unsubscribes.push(
      await this.#bus.subscribe(BROADCAST, (message) => this.#listChanged(message)),
      await this.#bus.subscribe(RESOURCE_UPDATED, ({ uri }) => this.#resourceUpdated(uri)),
    )
  }

  /** Listen streams open on this instance (metrics, tests). */
  get size(): number {
    return this.#listeners.size
  }

  /**
   * Start a subscription: the acknowledgement (the honoured filter) is sent at once, then every
   * matching change. An unusable filter is refused with the error to answer instead.
   */
  open(request: JsonRpcRequest, sink: ListenSink): Subscription | JsonRpcErrorObject {
    const filter = request.params?.notifications
    if (!isObject(filter))
      return invalidParams('Invalid params: subscriptions/listen needs "notifications", an object such as {"toolsListChanged": true, "resourceSubscriptions": ["test://watched-resource"]}').toJson()
    const honoured: Params = {}
    const flags = new Set<ListFlag>()
    for (const flag of Object.keys(LIST_FLAGS) as ListFlag[])
      if (filter[flag] === true) {
        flags.add(flag)
        honoured[flag] = true
      }
    let uris: string[] = []
    const wanted = filter.resourceSubscriptions
    if (wanted !== undefined) {
      if (!Array.isArray(wanted) || !wanted.every((u) => typeof u === 'string'))
        return invalidParams('Invalid params: "notifications.resourceSubscriptions" must be an array of resource URIs').toJson()
      // Only resources that exist are honoured (as resources/subscribe refuses unknown ones); the
      // acknowledgement tells the client which.
      uris = [...new Set(wanted)].filter((u) => this.#registry.getResource(u) !== undefined || this.#registry.matchTemplate(u) !== undefined)
      honoured.resourceSubscriptions = uris
    }
    const listener: Listener = { id: request.id, sink, flags, uris }
    sink.send(notification('notifications/subscriptions/acknowledged', { _meta: { [META.subscriptionId]: request.id }, notifications: honoured }))
    this.#listeners.add(listener)
    for (const uri of uris) {
      let set = this.#byUri.get(uri)
      if (!set) this.#byUri.set(uri, (set = new Set()))
      set.add(listener)
    }
    return { close: () => this.#remove(listener) }
  }

  /**
   * End every subscription gracefully: each stream gets the listen request's result, then ends
   * (shutdown, before connections are closed).
   */
  endAll(): void {
    for (const l of [...this.#listeners]) {
      this.#remove(l)
      l.sink.send(success(l.id, { resultType: 'complete', _meta: { [META.subscriptionId]: l.id, [META.serverInfo]: this.#info } }))
      l.sink.end()
    }
  }

  close(): void {
    for (const u of this.#unsubscribes.splice(0)) u()
    this.endAll()
  }

  #remove(l: Listener): void {
    if (!this.#listeners.delete(l)) return
    for (const uri of l.uris) {
      const set = this.#byUri.get(uri)
      set?.delete(l)
      if (set?.size === 0) this.#byUri.delete(uri)
    }
  }

  #listChanged(message: JsonRpcMessage): void {
    if (this.#listeners.size === 0 || !('method' in message)) return
    const flag = FLAG_OF.get(message.method)
    if (!flag) return
    for (const l of this.#listeners) if (l.flags.has(flag)) l.sink.send(tagged(message, l.id))
  }

  #resourceUpdated(uri: string): void {
    const set = this.#byUri.get(uri)
    if (!set) return
    for (const l of set) l.sink.send(notification('notifications/resources/updated', { uri, _meta: { [META.subscriptionId]: l.id } }))
  }
}

/** A copy of a notification carrying the subscription id (2026-07-28 listen streams MUST tag them). */
function tagged(message: JsonRpcNotification, id: RequestId): JsonRpcNotification {
  const params = message.params ?? {}
  return notification(message.method, { ...params, _meta: { ...(params._meta as Params | undefined), [META.subscriptionId]: id } })
}
