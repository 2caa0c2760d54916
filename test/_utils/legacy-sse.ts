/**
 * Driving the legacy HTTP+SSE transport without an SDK: open a stream and read its endpoint event,
 * POST messages, and read events (and comments) as they arrive with `LegacySseReader`.
 */
import type { EventSourceMessage } from 'eventsource-parser'
import { readSseBody } from './sse-body.ts'

/**
 * Keeps every event of a legacy SSE stream, where replies and notifications share the one stream:
 * `next(match)` finds one among all received so far without consuming it.
 */
export class LegacySseReader {
  readonly events: EventSourceMessage[] = []
  readonly comments: string[] = []
  readonly #cancel: () => Promise<void>
  #ended = false

  constructor(response: Response) {
    this.#cancel = readSseBody(
      response,
      {
        onEvent: (e) => void this.events.push(e),
        onComment: (c) => void this.comments.push(c),
      },
      () => {
        this.#ended = true
      },
    )
  }

  get ended(): boolean {
    return this.#ended
  }

  /** The first event received so far or later that satisfies `match`, waiting up to `ms`. */
  async next(match: (e: EventSourceMessage) => boolean = () => true, ms = 5000): Promise<EventSourceMessage> {
    const deadline = Date.now() + ms
    for (;;) {
      const found = this.events.find(match)
      if (found) return found
      if (this.#ended) throw new Error('the stream ended before the expected event arrived')
      if (Date.now() > deadline) throw new Error(`no matching SSE event within ${ms} ms; got ${JSON.stringify(this.events)}`)
      await new Promise((r) => setTimeout(r, 10))
    }
  }

  /** The JSON message answering request `id`. */
  async reply(id: number | string, ms = 5000): Promise<Record<string, unknown>> {
    const e = await this.next((e) => e.event === 'message' && (JSON.parse(e.data) as { id?: unknown }).id === id, ms)
    return JSON.parse(e.data) as Record<string, unknown>
  }

  async close(): Promise<void> {
    await this.#cancel().catch(() => {})
  }
}

/** Open a legacy SSE stream at `url`; returns the reader and the endpoint URL its first event names. */
export async function openLegacyStream(url: string, headers: Record<string, string> = {}): Promise<{ sse: LegacySseReader; endpoint: string; response: Response }> {
  const response = await fetch(url, { headers: { accept: 'text/event-stream', ...headers } })
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}: ${await response.text()}`)
  const sse = new LegacySseReader(response)
  const first = await sse.next()
  if (first.event !== 'endpoint') throw new Error(`the first event is ${first.event}, not endpoint`)
  return { sse, endpoint: new URL(first.data, url).href, response }
}

/** POST one JSON-RPC message (serialised unless a string) to a legacy messages endpoint. */
export function postMessage(endpoint: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  })
}
