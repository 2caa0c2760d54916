/**
 * @module transports/sse-stream
 * Server-Sent Events framing, keep-alives and disconnect detection, shared by the Streamable HTTP
 * and legacy SSE transports. One `SseStream` is one HTTP response body.
 */
const encoder = new TextEncoder()

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Tells reverse proxies (nginx) not to buffer: every event must reach the client when written.
  'x-accel-buffering': 'no',
} as const

export interface SseStreamOptions {
  keepAliveMs: number
  /** Runs once when the stream closes for any reason (client gone, server closed it). */
  onClose?: () => void
  /** Runs on every keep-alive tick (used to keep the session from idling out). */
  onKeepAlive?: () => void
}

export class SseStream {
  readonly body: ReadableStream<Uint8Array>
  #controller!: ReadableStreamDefaultController<Uint8Array>
  #closed = false
  readonly #timer: ReturnType<typeof setInterval>
  readonly #opts: SseStreamOptions

  constructor(opts: SseStreamOptions) {
    this.#opts = opts
    this.body = new ReadableStream<Uint8Array>({
      start: (c) => {
        this.#controller = c
      },
      cancel: () => this.#finish(),
    })
    this.#timer = setInterval(() => {
      this.comment('keepalive')
      opts.onKeepAlive?.()
    }, opts.keepAliveMs)
  }

  get closed(): boolean {
    return this.#closed
  }

  /** One event. `data` must not contain newlines (serialised JSON never does). */
  event(data: string, opts: { id?: string; event?: string; retryMs?: number } = {}): void {
    let frame = ''
    if (opts.id !== undefined) frame += `id: ${opts.id}\n`
    if (opts.event !== undefined) frame += `event: ${opts.event}\n`
    if (opts.retryMs !== undefined) frame += `retry: ${opts.retryMs}\n`
    frame += `data: ${data}\n\n`
    this.#write(frame)
  }

  comment(text: string): void {
    this.#write(`: ${text}\n\n`)
  }

  close(): void {
    if (this.#closed) return
    try {
      this.#controller.close()
    } catch {
      // Already closed by the client.
    }
    this.#finish()
  }

  response(headers: Record<string, string> = {}): Response {
    return new Response(this.body, { status: 200, headers: { ...SSE_HEADERS, ...headers } })
  }

  #write(frame: string): void {
    if (this.#closed) return
    try {
      this.#controller.enqueue(encoder.encode(frame))
    } catch {
      this.#finish()
    }
  }

  #finish(): void {
    if (this.#closed) return
    this.#closed = true
    clearInterval(this.#timer)
    this.#opts.onClose?.()
  }
}
