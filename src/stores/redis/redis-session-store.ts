/**
 * @module stores/redis/redis-session-store
 * MCP sessions in Redis: a hash per session (`{sid}:meta`) and a set of its subscriptions, both
 * expiring `ttlMs` after the last touch, plus one reverse set per resource URI.
 *
 * The request path reads through a local cache, so a `tools/call` on a session this instance has
 * seen costs no round trip: an entry stands until `cacheMs` old (a backstop) or until an
 * instance announces a change or delete of that session on the bus (`session-changed`, within a
 * millisecond or two), and never past what this instance knows of the key's expiry. Touches are
 * coalesced: at most one `PEXPIRE` per session per tenth of the TTL, fire and forget.
 */
import { topic, type Bus, type Unsubscribe } from '../../core/bus.ts'
import { StoreUnavailable } from '../../core/errors.ts'
import type { JsonRpcResponse, RequestId } from '../../core/jsonrpc.ts'
import type { SessionStore } from '../../core/session-store.ts'
import type { SessionState } from '../../core/session.ts'
import type { LogLevel, TransportKind } from '../../core/types.ts'
import type { RedisLink } from './redis-link.ts'

/** A session changed or ended on some instance: caches drop it. Lost: the entry ages out (`cacheMs`). */
const SESSION_CHANGED = topic<{ id: string; from: string }>('session-changed')

/** How long a cached session is still served while Redis cannot be asked. */
const STALE_IF_ERROR_MS = 5 * 60_000

/** Cached sessions before the cache is emptied (a bound, not a working-set size). */
const MAX_CACHED = 50_000

interface Cached {
  session: SessionState
  cachedAt: number
  /** When this instance last pushed the key's expiry forward (the key lives at least `ttlMs` past it). */
  touchedAt: number
}

const SCRIPTS = {
  /** KEYS: meta. ARGV: ttl, field, value, … */
  create: `redis.call('HSET', KEYS[1], unpack(ARGV, 2)); redis.call('PEXPIRE', KEYS[1], ARGV[1]); return 1`,
  /** KEYS: meta, subs. ARGV: ttl, touch (0/1). */
  get: `local h = redis.call('HGETALL', KEYS[1])
if #h > 0 and ARGV[2] == '1' then redis.call('PEXPIRE', KEYS[1], ARGV[1]); redis.call('PEXPIRE', KEYS[2], ARGV[1]) end
return h`,
  /** KEYS: meta, subs. ARGV: ttl. */
  touch: `if redis.call('PEXPIRE', KEYS[1], ARGV[1]) == 1 then redis.call('PEXPIRE', KEYS[2], ARGV[1]) end return 1`,
  /** KEYS: meta. ARGV: field, value, … Only an existing session is patched (an ended one stays ended). */
  update: `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], unpack(ARGV)) return 1`,
  /** KEYS: meta, subs. Returns whether the session existed, then the URIs it was subscribed to. */
  delete: `local n = redis.call('DEL', KEYS[1]); local subs = redis.call('SMEMBERS', KEYS[2]); redis.call('DEL', KEYS[2])
table.insert(subs, 1, n) return subs`,
  /** KEYS: meta, subs. ARGV: uri, ttl. Only a live session subscribes. */
  subscribe: `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('SADD', KEYS[2], ARGV[1]); redis.call('PEXPIRE', KEYS[2], ARGV[2]) return 1`,
}

function toFields(s: Partial<SessionState>): string[] {
  const f: string[] = []
  if (s.protocolVersion !== undefined) f.push('v', s.protocolVersion)
  if (s.clientInfo !== undefined) f.push('ci', JSON.stringify(s.clientInfo))
  if (s.clientCapabilities !== undefined) f.push('cc', JSON.stringify(s.clientCapabilities))
  if (s.initialized !== undefined) f.push('in', s.initialized ? '1' : '0')
  if (s.logLevel !== undefined) f.push('ll', s.logLevel)
  if (s.ownerId !== undefined) f.push('o', s.ownerId)
  if (s.transport !== undefined) f.push('t', s.transport)
  if (s.createdAt !== undefined) f.push('c', String(s.createdAt))
  return f
}

function fromFields(id: string, h: string[]): SessionState {
  const m = new Map<string, string>()
  for (let i = 0; i + 1 < h.length; i += 2) m.set(h[i]!, h[i + 1]!)
  const s: SessionState = {
    id,
    protocolVersion: m.get('v') ?? '',
    clientInfo: JSON.parse(m.get('ci') ?? '{}'),
    clientCapabilities: JSON.parse(m.get('cc') ?? '{}'),
    initialized: m.get('in') === '1',
    ownerId: m.get('o') ?? '',
    transport: (m.get('t') ?? 'streamable-http') as TransportKind,
    createdAt: Number(m.get('c') ?? 0),
  }
  const level = m.get('ll')
  if (level !== undefined) s.logLevel = level as LogLevel
  return s
}

const copy = (s: SessionState): SessionState => ({ ...s, clientInfo: { ...s.clientInfo }, clientCapabilities: { ...s.clientCapabilities } })

export interface RedisSessionStoreOptions {
  ttlMs: number
  /** How long a cached session stands without a change notice (0: every request reads Redis). */
  cacheMs: number
  now?: () => number
}

export class RedisSessionStore implements SessionStore {
  readonly #link: RedisLink
  readonly #bus: Bus
  readonly #o: RedisSessionStoreOptions
  readonly #now: () => number
  readonly #cache = new Map<string, Cached>()
  /** Tells this store's own change notices apart (its cache is already up to date). */
  readonly #id = crypto.randomUUID()
  #unsubscribe: Unsubscribe = () => {}

  constructor(link: RedisLink, bus: Bus, opts: RedisSessionStoreOptions) {
    this.#link = link
    this.#bus = bus
    this.#o = opts
    this.#now = opts.now ?? Date.now
  }

  /** Listen for other instances' changes (resolves once listening). */
  async start(): Promise<void> {
    this.#unsubscribe = await this.#bus.subscribe(SESSION_CHANGED, ({ id, from }) => {
      if (from !== this.#id) this.#cache.delete(id)
    })
    // Notices lost while the bus was away: nothing cached before it can be trusted.
    const off = this.#bus.onReconnect(() => this.#cache.clear())
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = () => {
      unsubscribe()
      off()
    }
  }

  async create(session: SessionState): Promise<void> {
    const k = this.#link.keys
    await this.#link.script(SCRIPTS.create, [k.meta(session.id)], [this.#o.ttlMs, ...toFields(session)])
    const now = this.#now()
    this.#remember(session.id, copy(session), now)
  }

  async get(id: string, opts?: { touch?: boolean }): Promise<SessionState | undefined> {
    const now = this.#now()
    const hit = this.#cache.get(id)
    if (hit && now - hit.cachedAt < this.#o.cacheMs && now - hit.touchedAt < this.#o.ttlMs) {
      if (opts?.touch) this.#touchSoon(id, hit, now)
      return copy(hit.session)
    }
    const k = this.#link.keys
    let h: string[]
    try {
      h = await this.#link.script<string[]>(SCRIPTS.get, [k.meta(id), k.subscriptions(id)], [this.#o.ttlMs, opts?.touch ? '1' : '0'])
    } catch (err) {
      // Redis is away: a session seen here keeps being served (nothing can change it meanwhile).
      if (err instanceof StoreUnavailable && hit && now - hit.cachedAt < STALE_IF_ERROR_MS) return copy(hit.session)
      throw err
    }
    if (h.length === 0) {
      this.#cache.delete(id)
      return undefined
    }
    const session = fromFields(id, h)
    // Without a touch this read says nothing about the expiry: only trust it briefly.
    this.#remember(id, session, now, opts?.touch ? now : (hit?.touchedAt ?? now - this.#o.ttlMs + this.#o.cacheMs))
    return copy(session)
  }

  async update(id: string, patch: Partial<Omit<SessionState, 'id'>>): Promise<void> {
    const fields = toFields(patch)
    if (fields.length === 0) return
    await this.#link.script(SCRIPTS.update, [this.#link.keys.meta(id)], fields)
    const hit = this.#cache.get(id)
    if (hit) hit.session = { ...hit.session, ...patch }
    await this.#changed(id)
  }

  async touch(id: string): Promise<void> {
    const now = this.#now()
    const hit = this.#cache.get(id)
    if (hit) return this.#touchSoon(id, hit, now)
    await this.#sendTouch(id)
  }

  async delete(id: string): Promise<boolean> {
    const k = this.#link.keys
    const [existed, ...uris] = await this.#link.script<(string | number)[]>(SCRIPTS.delete, [k.meta(id), k.subscriptions(id)], [])
    this.#cache.delete(id)
    // The reverse sets live in other slots: cleaned one command each (a miss only costs a lazy check later).
    await Promise.all(uris.map((uri) => this.#link.call(['SREM', k.subscribers(String(uri)), id])))
    await this.#changed(id)
    return Number(existed) === 1
  }

  async addSubscription(id: string, uri: string): Promise<void> {
    const k = this.#link.keys
    const added = await this.#link.script(SCRIPTS.subscribe, [k.meta(id), k.subscriptions(id)], [uri, this.#o.ttlMs])
    if (Number(added) === 1) await this.#link.call(['SADD', k.subscribers(uri), id])
  }

  async removeSubscription(id: string, uri: string): Promise<void> {
    const k = this.#link.keys
    await Promise.all([this.#link.call(['SREM', k.subscriptions(id), uri]), this.#link.call(['SREM', k.subscribers(uri), id])])
  }

  async subscribers(uri: string): Promise<string[]> {
    const k = this.#link.keys
    const ids = await this.#link.call<string[]>(['SMEMBERS', k.subscribers(uri)])
    if (ids.length === 0) return []
    const live = await Promise.all(ids.map((id) => this.#link.call(['EXISTS', k.meta(id)])))
    const gone = ids.filter((_, i) => Number(live[i]) === 0)
    // Sessions that idled out never said goodbye: forget them here, lazily.
    if (gone.length) void this.#link.call(['SREM', k.subscribers(uri), ...gone]).catch(() => {})
    return ids.filter((_, i) => Number(live[i]) === 1)
  }

  async putReply(sessionId: string, requestId: RequestId, response: JsonRpcResponse, ttlMs: number): Promise<void> {
    await this.#link.call(['SET', this.#link.keys.reply(sessionId, requestId), JSON.stringify(response), 'PX', String(ttlMs)])
  }

  async takeReply(sessionId: string, requestId: RequestId): Promise<JsonRpcResponse | undefined> {
    const raw = await this.#link.call(['GETDEL', this.#link.keys.reply(sessionId, requestId)])
    return typeof raw === 'string' ? (JSON.parse(raw) as JsonRpcResponse) : undefined
  }

  async close(): Promise<void> {
    this.#unsubscribe()
    this.#cache.clear()
  }

  /** Sessions cached here (tests). */
  get cachedCount(): number {
    return this.#cache.size
  }

  #remember(id: string, session: SessionState, now: number, touchedAt = now): void {
    if (this.#o.cacheMs <= 0) return
    if (this.#cache.size >= MAX_CACHED) this.#cache.clear()
    this.#cache.set(id, { session, cachedAt: now, touchedAt })
  }

  /** Push the expiry forward unless this instance did so less than a tenth of the TTL ago. */
  #touchSoon(id: string, hit: Cached, now: number): void {
    if (now - hit.touchedAt < this.#o.ttlMs / 10) return
    hit.touchedAt = now
    void this.#sendTouch(id).catch(() => {
      // Redis is away: try again on the next request.
      hit.touchedAt = 0
    })
  }

  async #sendTouch(id: string): Promise<void> {
    const k = this.#link.keys
    await this.#link.script(SCRIPTS.touch, [k.meta(id), k.subscriptions(id)], [this.#o.ttlMs])
  }

  async #changed(id: string): Promise<void> {
    try {
      await this.#bus.publish(SESSION_CHANGED, { id, from: this.#id })
    } catch (err) {
      // The change is stored; other caches fall back on their age limit.
      console.error('[redis] could not announce a session change:', (err as Error).message)
    }
  }
}
