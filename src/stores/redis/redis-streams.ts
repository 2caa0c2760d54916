/**
 * @module stores/redis/redis-streams
 * Streams over Redis. Each session has one Redis Stream (`{sid}:ev`, ids `0-<seq>`, the newest
 * `maxEvents` and `maxBytes` of them, always the newest one), one hash of stream records plus its
 * position counter `#` and logged byte count `#b` (`{sid}:st`), and one channel (`{sid}:ch`); all
 * expire `retentionMs` after the last write or attach.
 *
 * Log first, notify second, fill gaps always: a write is one Lua script (count, log, publish),
 * and Redis runs scripts one at a time, so frames reach the channel in log order whoever writes
 * them. Pub/sub is only the wake-up: a follower that sees a position jump, or whose subscriber
 * reconnected, reads what it missed from the log before it delivers anything newer.
 *
 * Frames: `d <seq> <stream> <json>` (a message), `e <stream>` (ended), `t <stream> <attach id>`
 * (another connection attached: last attach wins), `x` (the session was dropped).
 *
 * A POST stream records the instance writing it and its request ids. A follower of such a stream
 * whose writer's heartbeat is gone ends it with a JSON-RPC error per request (once: the script
 * checks and ends atomically), so a client resuming after the writer was killed gets an answer.
 */
import { ErrorCode } from '../../core/errors.ts'
import type { JsonRpcMessage, RequestId } from '../../core/jsonrpc.ts'
import { Follower, STANDALONE_STREAM, type Attachment, type StreamOptions, type StreamRef, type StreamSink, type Streams } from '../../core/streams.ts'
import type { RedisInstances } from './redis-instances.ts'
import type { RedisLink } from './redis-link.ts'

/**
 * Appends ARGV[from..] as messages of stream ARGV[1] (unless ephemeral) and publishes each. The
 * log is trimmed exactly, oldest first, to `maxlen` events and `maxbytes` bytes of messages but
 * never below one event (`#b` counts the bytes; approximate MAXLEN trimming would lose the count).
 */
const APPEND = `local function append(ev, st, ch, stream, maxlen, maxbytes, eph, from)
  local seq = 0
  maxlen, maxbytes = tonumber(maxlen), tonumber(maxbytes)
  for i = from, #ARGV do
    seq = redis.call('HINCRBY', st, '#', 1)
    if not eph then
      redis.call('XADD', ev, '0-' .. seq, 's', stream, 'm', ARGV[i])
      local bytes = redis.call('HINCRBY', st, '#b', #ARGV[i])
      local len = redis.call('XLEN', ev)
      while len > 1 and (len > maxlen or bytes > maxbytes) do
        local oldest = redis.call('XRANGE', ev, '-', '+', 'COUNT', 1)[1]
        redis.call('XDEL', ev, oldest[1])
        bytes = redis.call('HINCRBY', st, '#b', -#oldest[2][4])
        len = len - 1
      end
    end
    redis.call('PUBLISH', ch, 'd ' .. seq .. ' ' .. stream .. ' ' .. ARGV[i])
  end
  return seq
end
`

const SCRIPTS = {
  /** KEYS: ev, st, ch. ARGV: stream, maxlen, maxbytes, ttl, message… Returns the last position, or nil when ended. */
  write: `${APPEND}
local rec = redis.call('HGET', KEYS[2], ARGV[1])
local eph = false
if rec then
  local r = cjson.decode(rec)
  if r.e == 1 then return false end
  eph = r.x == 1
end
local seq = append(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[2], ARGV[3], eph, 5)
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return seq`,
  /** KEYS: st. ARGV: stream, record, ttl. */
  open: `redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2]); redis.call('PEXPIRE', KEYS[1], ARGV[3]) return 1`,
  /** KEYS: st, ch. ARGV: stream, ttl. */
  end: `local rec = redis.call('HGET', KEYS[1], ARGV[1])
local r = {}
if rec then r = cjson.decode(rec); if r.e == 1 then return 0 end end
r.e = 1
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(r))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PUBLISH', KEYS[2], 'e ' .. ARGV[1])
return 1`,
  /**
   * KEYS: ev, st, ch. ARGV: stream, after (-1: live), attach id, ttl, standalone (1/0).
   * Returns nil for an unknown stream, else {position, record, seq, message, seq, message…}.
   */
  attach: `local rec = redis.call('HGET', KEYS[2], ARGV[1])
if not rec and ARGV[5] ~= '1' then return false end
local out = {tonumber(redis.call('HGET', KEYS[2], '#') or '0'), rec or ''}
redis.call('PUBLISH', KEYS[3], 't ' .. ARGV[1] .. ' ' .. ARGV[3])
if ARGV[2] ~= '-1' then
  for _, e in ipairs(redis.call('XRANGE', KEYS[1], '(0-' .. ARGV[2], '+')) do
    if e[2][2] == ARGV[1] then table.insert(out, string.sub(e[1], 3)); table.insert(out, e[2][4]) end
  end
end
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return out`,
  /** KEYS: ev, st. ARGV: stream, after, before ('+': no bound). Returns {position, record, seq, message…}. */
  read: `local out = {tonumber(redis.call('HGET', KEYS[2], '#') or '0'), redis.call('HGET', KEYS[2], ARGV[1]) or ''}
local hi = '+'
if ARGV[3] ~= '+' then hi = '(0-' .. ARGV[3] end
for _, e in ipairs(redis.call('XRANGE', KEYS[1], '(0-' .. ARGV[2], hi)) do
  if e[2][2] == ARGV[1] then table.insert(out, string.sub(e[1], 3)); table.insert(out, e[2][4]) end
end
return out`,
  /** KEYS: ev, st, ch. ARGV: stream, dead writer, maxlen, maxbytes, ttl, error message… Ends an orphan once. */
  orphan: `${APPEND}
local rec = redis.call('HGET', KEYS[2], ARGV[1])
if not rec then return 0 end
local r = cjson.decode(rec)
if r.e == 1 or r.o ~= ARGV[2] then return 0 end
append(KEYS[1], KEYS[2], KEYS[3], ARGV[1], ARGV[3], ARGV[4], false, 6)
r.e = 1
redis.call('HSET', KEYS[2], ARGV[1], cjson.encode(r))
redis.call('PUBLISH', KEYS[3], 'e ' .. ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1`,
  /** KEYS: ev, st, ch. */
  drop: `redis.call('DEL', KEYS[1], KEYS[2]); redis.call('PUBLISH', KEYS[3], 'x') return 1`,
}

/** A stream's record as kept in the hash: ended, ephemeral, writer instance, request ids. */
interface StreamRecord {
  e?: number
  x?: number
  o?: string
  r?: RequestId[]
}

type Frame =
  | { kind: 'd'; seq: number; streamId: string; json: string }
  | { kind: 'e'; streamId: string }
  | { kind: 't'; streamId: string; attachId: string }
  | { kind: 'x' }

function parseFrame(raw: string): Frame | undefined {
  const kind = raw[0]
  if (kind === 'x') return { kind: 'x' }
  const a = raw.indexOf(' ', 2)
  if (kind === 'e') return { kind: 'e', streamId: raw.slice(2) }
  if (a < 0) return undefined
  if (kind === 't') return { kind: 't', streamId: raw.slice(2, a), attachId: raw.slice(a + 1) }
  const b = raw.indexOf(' ', a + 1)
  if (kind !== 'd' || b < 0) return undefined
  return { kind: 'd', seq: Number(raw.slice(2, a)), streamId: raw.slice(a + 1, b), json: raw.slice(b + 1) }
}

const parseRecord = (raw: unknown): StreamRecord | undefined => (typeof raw === 'string' && raw !== '' ? (JSON.parse(raw) as StreamRecord) : undefined)

/** The connections of one session followed here, and the channel listener they share. */
interface SessionFollowers {
  followers: Map<string, RedisFollower>
  unlisten: () => void
}

export interface RedisStreamsOptions {
  /** How long a session's log and records outlive the last write or attach. */
  retentionMs: number
  /** Events kept per session (oldest trimmed first). */
  maxEvents?: number
  /** Bytes of messages (as JSON) kept per session, oldest trimmed first; the newest event always stays. */
  maxBytes?: number
}

export class RedisStreams implements Streams {
  readonly #link: RedisLink
  readonly #instances: RedisInstances
  readonly #retentionMs: number
  readonly #maxEvents: number
  readonly #maxBytes: number
  readonly #sessions = new Map<string, SessionFollowers>()
  /** Sessions whose channel listener is being set up (several attaches may wait on one). */
  readonly #listening = new Map<string, Promise<SessionFollowers>>()
  readonly #unreconnect: () => void
  readonly #orphanCheck: ReturnType<typeof setInterval>

  constructor(link: RedisLink, instances: RedisInstances, opts: RedisStreamsOptions) {
    this.#link = link
    this.#instances = instances
    this.#retentionMs = opts.retentionMs
    this.#maxEvents = opts.maxEvents ?? 1000
    this.#maxBytes = opts.maxBytes ?? 1024 * 1024
    // Frames published while the subscriber was away are lost: every follower re-reads its stream.
    this.#unreconnect = link.onReconnect(() => {
      for (const s of this.#sessions.values()) for (const f of s.followers.values()) f.resync()
    })
    // A writer may die while its stream is followed: look again now and then.
    this.#orphanCheck = setInterval(() => void this.#checkOrphans(), 5000)
    this.#orphanCheck.unref?.()
  }

  async open(ref: StreamRef, opts: StreamOptions = {}): Promise<void> {
    const record: StreamRecord = { o: this.#instances.id }
    if (opts.ephemeral) record.x = 1
    if (opts.requestIds?.length) record.r = opts.requestIds
    await this.#link.script(SCRIPTS.open, [this.#link.keys.streams(ref.sessionId)], [ref.streamId, JSON.stringify(record), this.#retentionMs])
  }

  async write(ref: StreamRef, messages: readonly JsonRpcMessage[]): Promise<number | undefined> {
    if (messages.length === 0) return undefined
    const seq = await this.#link.script(SCRIPTS.write, this.#keys(ref.sessionId), [ref.streamId, this.#maxEvents, this.#maxBytes, this.#retentionMs, ...messages.map((m) => JSON.stringify(m))])
    return seq === null ? undefined : Number(seq)
  }

  async end(ref: StreamRef): Promise<void> {
    const k = this.#link.keys
    await this.#link.script(SCRIPTS.end, [k.streams(ref.sessionId), k.streamChannel(ref.sessionId)], [ref.streamId, this.#retentionMs])
  }

  async attach(ref: StreamRef, after: number | 'live', sink: StreamSink): Promise<Attachment | undefined> {
    const session = await this.#listen(ref.sessionId)
    session.followers.get(ref.streamId)?.takeOver()
    const follower = new RedisFollower(this, session, ref, sink)
    session.followers.set(ref.streamId, follower)
    let reply: unknown[] | null
    try {
      const standalone = ref.streamId === STANDALONE_STREAM ? '1' : '0'
      reply = await this.#link.script<(string | number)[] | null>(SCRIPTS.attach, this.#keys(ref.sessionId), [ref.streamId, after === 'live' ? -1 : after, follower.attachId, this.#retentionMs, standalone])
    } catch (err) {
      follower.detach()
      throw err
    }
    if (reply === null) {
      follower.detach()
      return undefined
    }
    const [position, rawRecord, ...events] = reply
    const record = parseRecord(rawRecord)
    follower.start(Number(position), record, events as string[])
    // Redis away: the periodic orphan check tries again.
    if (record && record.e !== 1 && record.o && record.o !== this.#instances.id) void this.#endIfOrphan(ref, record).catch(() => {})
    return follower
  }

  async dropSession(sessionId: string): Promise<void> {
    await this.#link.script(SCRIPTS.drop, this.#keys(sessionId), [])
    // Followers here end at once; other instances' end when the frame reaches them.
    for (const f of [...(this.#sessions.get(sessionId)?.followers.values() ?? [])]) f.end()
  }

  async close(): Promise<void> {
    this.#unreconnect()
    clearInterval(this.#orphanCheck)
    for (const s of this.#sessions.values()) s.unlisten()
    this.#sessions.clear()
  }

  /** Sessions with followers here (tests prove clean-up with it). */
  get sessionCount(): number {
    return this.#sessions.size
  }

  /** What a follower missed: its stream's logged messages after `after` (and before `before`). */
  async read(ref: StreamRef, after: number, before: number | '+'): Promise<{ position: number; record?: StreamRecord; events: string[] }> {
    const k = this.#link.keys
    const [position, rawRecord, ...events] = await this.#link.script<(string | number)[]>(SCRIPTS.read, [k.events(ref.sessionId), k.streams(ref.sessionId)], [ref.streamId, after, before])
    return { position: Number(position), record: parseRecord(rawRecord), events: events as string[] }
  }

  /** A follower let go: when it was the session's last one here, stop listening to its channel. */
  released(session: SessionFollowers, sessionId: string): void {
    if (session.followers.size > 0 || this.#sessions.get(sessionId) !== session) return
    this.#sessions.delete(sessionId)
    session.unlisten()
  }

  #keys(sessionId: string): string[] {
    const k = this.#link.keys
    return [k.events(sessionId), k.streams(sessionId), k.streamChannel(sessionId)]
  }

  #listen(sessionId: string): Promise<SessionFollowers> {
    const known = this.#sessions.get(sessionId)
    if (known) return Promise.resolve(known)
    let pending = this.#listening.get(sessionId)
    if (!pending) {
      const session: SessionFollowers = { followers: new Map(), unlisten: () => {} }
      pending = this.#link
        .listen(this.#link.keys.streamChannel(sessionId), (raw) => {
          const frame = parseFrame(raw)
          if (frame) for (const f of [...session.followers.values()]) f.onFrame(frame)
        })
        .then((unlisten) => {
          session.unlisten = unlisten
          this.#sessions.set(sessionId, session)
          return session
        })
        .finally(() => this.#listening.delete(sessionId))
      this.#listening.set(sessionId, pending)
    }
    return pending
  }

  async #checkOrphans(): Promise<void> {
    for (const s of [...this.#sessions.values()])
      for (const f of [...s.followers.values()])
        if (f.record && f.record.e !== 1 && f.record.o && f.record.o !== this.#instances.id) await this.#endIfOrphan(f.ref, f.record).catch(() => {})
  }

  /** End a stream whose writer is gone, with an error for each request it was answering. */
  async #endIfOrphan(ref: StreamRef, record: StreamRecord): Promise<void> {
    if (await this.#instances.isAlive(record.o!)) return
    const errors = (record.r ?? []).map((id) =>
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        error: { code: ErrorCode.InternalError, message: 'The server instance handling this request stopped before it answered: send the request again' },
      }),
    )
    await this.#link.script(SCRIPTS.orphan, this.#keys(ref.sessionId), [ref.streamId, record.o!, this.#maxEvents, this.#maxBytes, this.#retentionMs, ...errors])
  }
}

/**
 * One connection following a stream. Frames wait in a buffer until the backlog was delivered,
 * then are handled in order; a position jump (a lost frame) pauses delivery until the missing
 * messages were read from the log.
 */
class RedisFollower extends Follower {
  readonly attachId = crypto.randomUUID()
  /** The newest position seen on the session's channel (any stream). */
  lastSeq = 0
  record: StreamRecord | undefined
  #live = false
  /** Frames waiting: before `start`, or while missing messages are being read. */
  #waiting: Frame[] = []
  #filling = false

  constructor(
    readonly streams: RedisStreams,
    readonly session: SessionFollowers,
    readonly ref: StreamRef,
    sink: StreamSink,
  ) {
    super(sink)
  }

  /** The attach script answered: deliver the backlog, then what arrived meanwhile. */
  start(position: number, record: StreamRecord | undefined, backlog: string[]): void {
    this.record = record
    this.lastSeq = position
    this.sink.ready?.(position)
    for (let i = 0; i + 1 < backlog.length && !this.detached; i += 2) this.sink.event(Number(backlog[i]), JSON.parse(backlog[i + 1]!))
    if (record?.e === 1) return this.end()
    this.#live = true
    this.#drain()
  }

  onFrame(frame: Frame): void {
    if (this.detached) return
    this.#waiting.push(frame)
    if (this.#live && !this.#filling) this.#drain()
  }

  /** Read everything after the last position (the subscriber was away), then go on. */
  resync(): void {
    if (this.detached || !this.#live || this.#filling) return
    this.#fill('+')
  }

  protected released(): void {
    this.#waiting = []
    if (this.session.followers.get(this.ref.streamId) === this) this.session.followers.delete(this.ref.streamId)
    this.streams.released(this.session, this.ref.sessionId)
  }

  #handle(frame: Frame): void {
    switch (frame.kind) {
      case 'd':
        if (frame.seq <= this.lastSeq) return
        if (frame.seq > this.lastSeq + 1) {
          this.#waiting.unshift(frame)
          return this.#fill(frame.seq)
        }
        this.lastSeq = frame.seq
        if (frame.streamId === this.ref.streamId) this.sink.event(frame.seq, JSON.parse(frame.json))
        return
      case 'e':
        if (frame.streamId === this.ref.streamId) this.end()
        return
      case 't':
        if (frame.streamId === this.ref.streamId && frame.attachId !== this.attachId) this.takeOver()
        return
      case 'x':
        this.end()
    }
  }

  #fill(before: number | '+'): void {
    this.#filling = true
    const after = this.lastSeq
    this.streams.read(this.ref, after, before).then(
      ({ position, record, events }) => {
        this.#filling = false
        if (this.detached) return
        for (let i = 0; i + 1 < events.length && !this.detached; i += 2) this.sink.event(Number(events[i]), JSON.parse(events[i + 1]!))
        this.lastSeq = before === '+' ? Math.max(this.lastSeq, position) : before - 1
        if (record) this.record = record
        if (before === '+' && (record?.e === 1 || (record === undefined && position === 0 && this.ref.streamId !== STANDALONE_STREAM))) return this.end()
        this.#drain()
      },
      (err: unknown) => {
        // Redis is away: the next frame or the reconnect tries again; nothing is skipped meanwhile.
        this.#filling = false
        console.error(`[redis] reading missed messages of session ${this.ref.sessionId} failed:`, (err as Error).message)
      },
    )
  }

  #drain(): void {
    while (!this.#filling && !this.detached && this.#waiting.length) this.#handle(this.#waiting.shift()!)
  }
}
