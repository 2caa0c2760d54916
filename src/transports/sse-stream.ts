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

/** Alternative to the callbacks: an object told of the stream's life (no closure per stream). */
export interface SseStreamOwner {
  sseClosed(): void
  sseKeepAlive?(): void
}

export interface SseStreamOptions {
  keepAliveMs: number
  owner?: SseStreamOwner
  /** Runs once when the stream closes for any reason (client gone, server closed it). */
  onClose?: () => void
  /** Runs on every keep-alive tick (used to keep the session from idling out). */
  onKeepAlive?: () => void
}

/**
 * One timer per keep-alive interval for all open streams, instead of one per stream: with tens
 * of thousands of idle streams, a timer each costs more memory than the stream's own state.
 */
class KeepAliveTicker {
  readonly #streams = new Set<SseStream>()
  readonly #ms: number
  #timer: ReturnType<typeof setInterval> | undefined

  constructor(ms: number) {
    this.#ms = ms
  }

  add(stream: SseStream): void {
    this.#streams.add(stream)
    if (this.#timer !== undefined) return
    this.#timer = setInterval(() => {
      for (const s of this.#streams) s.keepAlive()
      if (this.#streams.size === 0) {
        clearInterval(this.#timer)
        this.#timer = undefined
      }
    }, this.#ms)
    this.#timer.unref?.()
  }

  delete(stream: SseStream): void {
    this.#streams.delete(stream)
  }
}

const tickers = new Map<number, KeepAliveTicker>()
function tickerFor(ms: number): KeepAliveTicker {
  let t = tickers.get(ms)
  if (!t) tickers.set(ms, (t = new KeepAliveTicker(ms)))
  return t
}

/** The body's underlying source: a plain object with methods, so a stream costs no closures. */
class SseSource {
  controller!: ReadableStreamDefaultController<Uint8Array>
  readonly #stream: SseStream
  constructor(stream: SseStream) {
    this.#stream = stream
  }
  start(c: ReadableStreamDefaultController<Uint8Array>): void {
    this.controller = c
  }
  cancel(): void {
    this.#stream.close()
  }
}

export class SseStream {
  readonly body: ReadableStream<Uint8Array>
  readonly #source: SseSource
  #closed = false
  readonly #ticker: KeepAliveTicker
  readonly #opts: SseStreamOptions

  constructor(opts: SseStreamOptions) {
    this.#opts = opts
    this.#source = new SseSource(this)
    this.body = new ReadableStream<Uint8Array>(this.#source)
    this.#ticker = tickerFor(opts.keepAliveMs)
    this.#ticker.add(this)
  }

  /** Called by the shared ticker. */
  keepAlive(): void {
    this.comment('keepalive')
    this.#opts.onKeepAlive?.()
    this.#opts.owner?.sseKeepAlive?.()
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
      this.#source.controller.close()
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
      this.#source.controller.enqueue(encoder.encode(frame))
    } catch {
      this.#finish()
    }
  }

  #finish(): void {
    if (this.#closed) return
    this.#closed = true
    this.#ticker.delete(this)
    this.#opts.onClose?.()
    this.#opts.owner?.sseClosed()
  }
}
