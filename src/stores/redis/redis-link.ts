/**
 * @module stores/redis/redis-link
 * The one connection pair every Redis store shares: `cmd` for commands and `sub` for pub/sub (a
 * subscribed connection can do nothing else). node-redis reconnects forever and re-subscribes by
 * itself (measured: Bun's own client did not, after a Redis restart). What it does not do, this
 * adds:
 * - a deadline on every command: a command already written is never timed out by the client, so
 *   a frozen Redis would hang the request that waits for it (`StoreUnavailable` instead);
 * - no offline queue: while disconnected, commands fail at once (503) rather than pile up;
 * - scripts by SHA (`EVALSHA`, loaded again after a restart wiped the script cache);
 * - channel listeners counted locally, so unsubscribing is synchronous and a channel is left only
 *   when its last listener goes;
 * - `onReconnect`: after the subscriber came back, events published meanwhile were lost, and the
 *   stores that cannot afford that (streams, kept replies) repair from their keys.
 */
import { createHash } from 'node:crypto'
import { createClient } from 'redis'
import { StoreUnavailable } from '../../core/errors.ts'
import { RedisKeys } from './redis-keys.ts'

export interface RedisLinkOptions {
  url: string
  prefix: string
  /** Deadline of one command on the request path. */
  commandTimeoutMs: number
  /** How long `connect` waits for Redis at boot before giving up (default 10 s). */
  connectTimeoutMs?: number
}

type Client = ReturnType<typeof createClient>
type Reply = string | number | null | Reply[]
type Listener = (message: string) => void

interface Channel {
  listeners: Set<Listener>
  /** The one listener node-redis knows for the channel; it fans out to `listeners`. */
  dispatch: Listener
  /** Resolves once Redis confirmed the subscription. */
  ready: Promise<void>
}

export class RedisLink {
  readonly keys: RedisKeys
  readonly #o: RedisLinkOptions
  readonly #cmd: Client
  readonly #sub: Client
  readonly #shas = new Map<string, string>()
  readonly #channels = new Map<string, Channel>()
  readonly #reconnected = new Set<() => void>()
  /** When the command connection went down (undefined while it is up). */
  #cmdDownSince: number | undefined
  #subDownSince: number | undefined
  #subEverReady = false
  #closed = false

  constructor(opts: RedisLinkOptions) {
    this.#o = opts
    this.keys = new RedisKeys(opts.prefix)
    const options = {
      url: opts.url,
      // RESP2: plain arrays for every reply, and a subscriber on a connection of its own anyway.
      RESP: 2 as const,
      disableOfflineQueue: true,
      socket: { connectTimeout: 5000, reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 1000) + Math.floor(Math.random() * 50) },
    }
    this.#cmd = createClient(options)
    this.#sub = createClient(options)
    this.#watch(this.#cmd, 'command', (down) => (this.#cmdDownSince = down))
    this.#watch(this.#sub, 'subscriber', (down) => {
      this.#subDownSince = down
      if (down !== undefined) return
      // node-redis re-subscribed before 'ready': whatever was published meanwhile is lost.
      if (this.#subEverReady) for (const l of this.#reconnected) l()
      this.#subEverReady = true
    })
  }

  /** Connect both connections; rejects (with what to check) when Redis cannot be reached. */
  async connect(): Promise<void> {
    const ms = this.#o.connectTimeoutMs ?? 10_000
    try {
      // node-redis retries a first connection forever: at boot, a Redis that never answers is an error.
      await this.#deadline(Promise.all([this.#cmd.connect(), this.#sub.connect()]), 'CONNECT', ms)
    } catch (err) {
      await this.close()
      throw new Error(`cannot connect to Redis at ${redactUrl(this.#o.url)}: ${(err as Error).message}`)
    }
  }

  /** Milliseconds the command connection has been down (0 while up). */
  get downForMs(): number {
    return this.#cmdDownSince === undefined ? 0 : Date.now() - this.#cmdDownSince
  }

  /** Milliseconds the subscriber has been down (0 while up): events may be lost meanwhile. */
  get subscriberDownForMs(): number {
    return this.#subDownSince === undefined ? 0 : Date.now() - this.#subDownSince
  }

  /** One command, within the deadline. Failures are `StoreUnavailable`, except script errors. */
  call<T extends Reply = Reply>(args: readonly string[], timeoutMs = this.#o.commandTimeoutMs): Promise<T> {
    return this.#deadline(this.#cmd.sendCommand(args as string[]) as Promise<T>, args[0]!, timeoutMs)
  }

  /** Run a Lua script by SHA, loading it when Redis does not know it (first use, or after a restart). */
  async script<T extends Reply = Reply>(source: string, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    let sha = this.#shas.get(source)
    if (sha === undefined) this.#shas.set(source, (sha = createHash('sha1').update(source).digest('hex')))
    const tail = [String(keys.length), ...keys, ...args.map(String)]
    try {
      return await this.call<T>(['EVALSHA', sha, ...tail])
    } catch (err) {
      if (!String((err as Error).message).includes('NOSCRIPT')) throw err
      return this.call<T>(['EVAL', source, ...tail])
    }
  }

  /** Publish to a channel; resolves with the number of subscribers that got it. */
  async publish(channel: string, message: string): Promise<number> {
    return Number(await this.call(['PUBLISH', channel, message]))
  }

  /**
   * Listen to a channel; resolves once the subscription is live. The returned function stops
   * listening at once (synchronously) and is idempotent.
   */
  async listen(channel: string, listener: Listener): Promise<() => void> {
    let ch = this.#channels.get(channel)
    if (!ch) {
      const listeners = new Set<Listener>()
      const dispatch = (message: string) => {
        for (const l of listeners) {
          try {
            l(message)
          } catch (err) {
            console.error(`[redis] a listener of ${channel} threw:`, err)
          }
        }
      }
      ch = { listeners, dispatch, ready: this.#deadline(this.#sub.subscribe(channel, dispatch), 'SUBSCRIBE', this.#o.commandTimeoutMs * 5) }
      this.#channels.set(channel, ch)
      ch.ready.catch(() => {
        // A failed subscribe leaves nothing behind: the next listen tries again.
        if (this.#channels.get(channel) === ch) this.#channels.delete(channel)
      })
    }
    ch.listeners.add(listener)
    await ch.ready
    const current = ch
    let done = false
    return () => {
      if (done) return
      done = true
      current.listeners.delete(listener)
      if (current.listeners.size > 0 || this.#channels.get(channel) !== current) return
      this.#channels.delete(channel)
      // With its listener: node-redis then marks the channel as leaving, so a subscribe that
      // comes before the reply subscribes again instead of joining a listener set about to go.
      if (!this.#closed) this.#sub.unsubscribe(channel, current.dispatch).catch(() => {})
    }
  }

  /** Called after the subscriber reconnected (events published while it was away are lost). */
  onReconnect(listener: () => void): () => void {
    this.#reconnected.add(listener)
    return () => this.#reconnected.delete(listener)
  }

  /** Channels listened to (tests prove clean-up with it). */
  get channelCount(): number {
    return this.#channels.size
  }

  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    await Promise.all([this.#cmd, this.#sub].map((c) => this.#closeClient(c)))
  }

  /** Close one connection without waiting on Redis: shutdown must not hang through an outage. */
  async #closeClient(c: Client): Promise<void> {
    if (!c.isOpen) return
    // Reconnecting: nothing can be flushed, and close() would wait for Redis (forever, once a
    // command such as an UNSUBSCRIBE is queued behind the reconnection).
    if (!c.isReady) return c.destroy()
    await this.#deadline(c.close(), 'QUIT', this.#o.commandTimeoutMs).catch(() => c.destroy())
  }

  #watch(client: Client, name: string, setDown: (since: number | undefined) => void): void {
    let logged = false
    client.on('ready', () => {
      setDown(undefined)
      if (logged) console.log(`[redis] ${name} connection is back`)
      logged = false
    })
    client.on('error', (err: Error) => {
      if (this.#closed) return
      setDown(this.#downSince(name) ?? Date.now())
      // One line per outage, not one per reconnect attempt.
      if (!logged) console.error(`[redis] ${name} connection lost: ${err.message} (retrying)`)
      logged = true
    })
    client.on('reconnecting', () => setDown(this.#downSince(name) ?? Date.now()))
  }

  #downSince(name: string): number | undefined {
    return name === 'command' ? this.#cmdDownSince : this.#subDownSince
  }

  #deadline<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailable(`Redis did not answer ${what} within ${ms} ms`)), ms)
    })
    return Promise.race([
      p.then(
        (v) => v,
        (err: Error) => {
          // Script and type errors are bugs, not outages: keep them as they are.
          if (/^(ERR|WRONGTYPE|NOSCRIPT)/.test(err.message ?? '')) throw err
          throw new StoreUnavailable(`Redis is not available (${what}): ${err.message}`)
        },
      ),
      late,
    ]).finally(() => clearTimeout(timer))
  }
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url)
    if (u.password) u.password = '***'
    return u.toString()
  } catch {
    return '(unparseable REDIS_URL)'
  }
}
