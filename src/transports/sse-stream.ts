/**
 * @module transports/sse-stream
 * Server-Sent Events framing, keep-alives and disconnect detection, shared by the Streamable HTTP
 * and legacy SSE transports. One `SseStream` is one HTTP response body.
 */

export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-transform',
  connection: 'keep-alive',
  // Tells reverse proxies (nginx) not to buffer: every event must reach the client when written.
  'x-accel-buffering': 'no',
  // Events reflect client input (method names); no browser may sniff the stream as anything else.
  'x-content-type-options': 'nosniff',
} as const

/** Alternative to the callbacks: an object told of the stream's life (no closure per stream). */
export interface SseStreamOwner {
  sseClosed(): void
  sseKeepAlive?(): void
}

export interface SseStreamOptions {
  keepAliveMs: number
  /**
   * Bytes (UTF-16 code units of the frames, about bytes for JSON) that may wait for a client that
   * does not read; past them the stream closes. Default `DEFAULT_MAX_BUFFERED_BYTES`.
   */
  maxBufferedBytes?: number
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

/**
 * What may wait for a client that does not read, past which its stream is closed: a stalled
 * client must not make the server buffer without bound. Counted in bytes, not frames: 256 frames
 * of a reflected 4 MB method name were a gigabyte.
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 4 * 1024 * 1024

/**
 * The body's underlying source: a Bun "direct" stream (writes go straight to the socket, with no
 * JavaScript queue, reader or per-chunk promise; measured ≈ 15 µs cheaper per reply than a default
 * ReadableStream, and lighter to hold). A plain object with methods, so a stream costs no closures.
 */
class SseSource {
  readonly type = 'direct'
  readonly #stream: SseStream
  #controller: ReadableStreamDirectController | undefined
  /** Frames written before Bun started pulling the body. */
  #early: string[] | undefined = []
  /** Characters written and not yet flushed to the socket (early frames included). */
  #backlog = 0
  readonly #maxBacklog: number
  #ended = false

  constructor(stream: SseStream, maxBacklog: number) {
    this.#stream = stream
    this.#maxBacklog = maxBacklog
  }

  /** Bun calls this once when it starts sending the body; returning keeps the stream open. */
  pull(c: ReadableStreamDirectController): void {
    this.#controller = c
    const early = this.#early ?? []
    this.#early = undefined
    this.#backlog = 0
    for (const frame of early) this.#send(frame)
    if (this.#ended) c.close()
  }

  cancel(): void {
    this.#stream.close()
  }

  /** False once the client is gone or too far behind: the stream should close. */
  write(frame: string): boolean {
    if (this.#early) {
      this.#early.push(frame)
      this.#backlog += frame.length
      return this.#backlog <= this.#maxBacklog
    }
    return this.#send(frame)
  }

  end(): void {
    this.#ended = true
    this.#controller?.close()
  }

  #send(frame: string): boolean {
    const c = this.#controller!
    const written = c.write(frame)
    if (written === 0) return false
    const flushed = c.flush()
    if (typeof written === 'number' && typeof flushed === 'number') return true
    // Backpressure: the frame is accepted, but the client is not keeping up. Bun then answers the
    // write with a promise that settles once the socket has taken the frame (flush() still says
    // 0): until then it counts against the budget.
    const size = frame.length
    this.#backlog += size
    if (this.#backlog > this.#maxBacklog) return false
    const settle = () => void (this.#backlog -= size)
    void Promise.resolve(typeof written === 'number' ? flushed : written).then(settle, settle)
    return true
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
    this.#source = new SseSource(this, opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES)
    this.body = new ReadableStream(this.#source) as ReadableStream<Uint8Array>
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
      this.#source.end()
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
    let ok: boolean
    try {
      ok = this.#source.write(frame)
    } catch {
      ok = false
    }
    if (!ok) this.close()
  }

  #finish(): void {
    if (this.#closed) return
    this.#closed = true
    this.#ticker.delete(this)
    this.#opts.onClose?.()
    this.#opts.owner?.sseClosed()
  }
}
