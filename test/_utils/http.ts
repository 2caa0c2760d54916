/**
 * Raw HTTP helpers for driving /mcp without an SDK: JSON-RPC POSTs with the right headers, a
 * session opened by hand, and an SSE reader built on eventsource-parser (what the SDKs use).
 */
import type { EventSourceMessage } from 'eventsource-parser'
import { readSseBody } from './sse-body.ts'

export const ACCEPT_BOTH = 'application/json, text/event-stream'
export const LATEST = '2025-11-25'

/** Headers a well-behaved client sends on a POST, plus `extra` (which may override them). */
export function postHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'content-type': 'application/json', accept: ACCEPT_BOTH, ...extra }
}

/** POST `body` (serialised unless already a string) to `url`. */
export function post(url: string, body: unknown, headers: Record<string, string> = {}, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: postHeaders(headers),
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  })
}

export function initializeRequest(id: number | string = 1, protocolVersion = LATEST, capabilities: Record<string, unknown> = {}) {
  return {
    jsonrpc: '2.0',
    id,
    method: 'initialize',
    params: { protocolVersion, capabilities, clientInfo: { name: 'raw-test', version: '1.0.0' } },
  }
}

export interface RawSession {
  id: string
  protocolVersion: string
  /** Session and version headers to send on every later request. */
  headers: Record<string, string>
}

/** initialize + notifications/initialized by hand. */
export async function openSession(url: string, protocolVersion = LATEST, capabilities: Record<string, unknown> = {}): Promise<RawSession> {
  const res = await post(url, initializeRequest(1, protocolVersion, capabilities))
  if (res.status !== 200) throw new Error(`initialize failed: ${res.status} ${await res.text()}`)
  const id = res.headers.get('mcp-session-id')
  const body = (await res.json()) as { result: { protocolVersion: string } }
  if (!id) throw new Error('initialize answered without Mcp-Session-Id')
  const headers = { 'mcp-session-id': id, 'mcp-protocol-version': body.result.protocolVersion }
  const ack = await post(url, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)
  if (ack.status !== 202) throw new Error(`notifications/initialized answered ${ack.status}`)
  return { id, protocolVersion: body.result.protocolVersion, headers }
}

/** An SSE event as the SDK clients see it, plus its parsed JSON (undefined for empty data). */
export interface SseEvent extends EventSourceMessage {
  json?: Record<string, unknown>
}

/**
 * Reads an SSE response body event by event. `next()` resolves with the next event, or
 * undefined when the stream ended (or the wait timed out, when `timeoutMs` is given).
 */
export class SseReader {
  readonly comments: string[] = []
  retry: number | undefined
  #queue: SseEvent[] = []
  #waiters: (() => void)[] = []
  #ended = false
  readonly #cancel: () => Promise<void>

  constructor(response: Response) {
    this.#cancel = readSseBody(
      response,
      {
        onEvent: (e) => {
          this.#queue.push({ ...e, json: e.data.trim() === '' ? undefined : (JSON.parse(e.data) as Record<string, unknown>) })
          this.#wake()
        },
        onComment: (c) => {
          this.comments.push(c.trim())
          this.#wake()
        },
        onRetry: (ms) => {
          this.retry = ms
        },
      },
      () => {
        this.#ended = true
        this.#wake()
      },
    )
  }

  get ended(): boolean {
    return this.#ended && this.#queue.length === 0
  }

  async next(timeoutMs?: number): Promise<SseEvent | undefined> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs
    for (;;) {
      const e = this.#queue.shift()
      if (e) return e
      if (this.#ended) return undefined
      const left = deadline - Date.now()
      if (left <= 0) return undefined
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(left) ? setTimeout(resolve, left) : undefined
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** Every remaining event until the server ends the stream. */
  async rest(): Promise<SseEvent[]> {
    const out: SseEvent[] = []
    for (let e = await this.next(); e; e = await this.next()) out.push(e)
    return out
  }

  /** Wait until a comment arrives (keep-alives), or the timeout passes. */
  async nextComment(timeoutMs: number): Promise<string | undefined> {
    const seen = this.comments.length
    const deadline = Date.now() + timeoutMs
    while (this.comments.length === seen && !this.#ended && Date.now() < deadline)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now())
        this.#waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    return this.comments[seen]
  }

  async cancel(): Promise<void> {
    await this.#cancel().catch(() => {})
  }

  #wake(): void {
    for (const w of this.#waiters.splice(0)) w()
  }
}
