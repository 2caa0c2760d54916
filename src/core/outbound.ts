/**
 * @module core/outbound
 * Server-to-client requests (sampling, elicitation, roots) waiting for the client's answer.
 * Ids carry the instance that sent them (`<instance>.<n>`), so a reply that reaches another
 * instance can be forwarded to the one that is waiting.
 */
import { ErrorCode, McpError } from './errors.ts'
import type { JsonRpcResponse, RequestId } from './jsonrpc.ts'

interface Pending {
  resolve(result: Record<string, unknown>): void
  reject(err: Error): void
}

export class PendingRequests {
  readonly #instanceId: string
  readonly #pending = new Map<string, Pending>()
  #counter = 0

  constructor(instanceId: string) {
    this.#instanceId = instanceId
  }

  nextId(): string {
    return `${this.#instanceId}.${++this.#counter}`
  }

  /** The instance that issued a request id, when it is one of ours. */
  static instanceOf(id: RequestId): string | undefined {
    if (typeof id !== 'string') return undefined
    const dot = id.lastIndexOf('.')
    return dot > 0 ? id.slice(0, dot) : undefined
  }

  wait(sessionId: string, id: string): Promise<Record<string, unknown>> {
    return new Promise((resolve, reject) => {
      this.#pending.set(`${sessionId}\u0000${id}`, { resolve, reject })
    })
  }

  /** Settle a waiting request with the client's response. Returns false when nobody here waits for it. */
  settle(sessionId: string, response: JsonRpcResponse): boolean {
    if (response.id === null) return false
    const key = `${sessionId}\u0000${response.id}`
    const p = this.#pending.get(key)
    if (!p) return false
    this.#pending.delete(key)
    if ('error' in response) p.reject(new McpError(response.error.code, response.error.message, response.error.data))
    else p.resolve(response.result)
    return true
  }

  /** Fail a waiting request locally (timeout, cancellation). Returns false if it was already settled. */
  fail(sessionId: string, id: string, err: Error): boolean {
    const key = `${sessionId}\u0000${id}`
    const p = this.#pending.get(key)
    if (!p) return false
    this.#pending.delete(key)
    p.reject(err)
    return true
  }

  /** Every request still waiting for an answer. */
  *waiting(): Iterable<{ sessionId: string; id: string }> {
    for (const key of this.#pending.keys()) {
      const cut = key.indexOf('\u0000')
      yield { sessionId: key.slice(0, cut), id: key.slice(cut + 1) }
    }
  }

  /** Fail everything a session waits for (the session ended). */
  failSession(sessionId: string): void {
    const prefix = `${sessionId}\u0000`
    for (const [key, p] of this.#pending) {
      if (!key.startsWith(prefix)) continue
      this.#pending.delete(key)
      p.reject(new McpError(ErrorCode.ConnectionClosed, 'The session ended before the client answered'))
    }
  }

  get size(): number {
    return this.#pending.size
  }
}
