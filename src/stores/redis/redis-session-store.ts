/**
 * @module stores/redis/redis-session-store
 * MCP sessions in Redis: a hash per session (`{sid}:meta`) and a set of its subscriptions, both
 * expiring `ttlMs` after the last touch, plus one reverse set per resource URI and one sorted set
 * per owner, client address and auth session (scored by idle deadline: the session limits evict
 * the least recently touched, and logout finds every session of a token in one step).
 *
 * The request path reads through a local cache, so a `tools/call` on a session this instance has
 * seen costs no round trip: an entry stands until `cacheMs` old (a backstop) or until an
 * instance announces a change or delete of that session on the bus (`session-changed`, within a
 * millisecond or two), and never past what this instance knows of the key's expiry, nor while this
 * instance's subscriber is disconnected (notices would be lost). Touches are
 * coalesced: at most one `PEXPIRE` per session per tenth of the TTL, fire and forget.
 */
import { topic, type Bus, type Unsubscribe } from '../../core/bus.ts'
import { StoreUnavailable } from '../../core/errors.ts'
import type { JsonRpcResponse, RequestId } from '../../core/jsonrpc.ts'
import type { SessionLimits, SessionStore } from '../../core/session-store.ts'
import type { SessionState } from '../../core/session.ts'
import type { LogLevel, TransportKind } from '../../core/types.ts'
import type { RedisLink } from './redis-link.ts'
import { SingleFlight } from './single-flight.ts'

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

/**
 * Helpers every session script starts with. ARGV[1] is the key prefix: evicting or touching a
 * session reaches its groups (`RedisKeys.sessionGroup`) and its keys by name, so these scripts
 * span slots and need one Redis primary (standalone or Sentinel; scale.md §4). Deadlines come from
 * Redis' own clock, the one its key expiry runs on.
 */
const PRELUDE = `local P = ARGV[1]
local function meta(id) return P .. '{' .. id .. '}:meta' end
local function subs(id) return P .. '{' .. id .. '}:subs' end
local function groups_of(id)
  local f = redis.call('HMGET', meta(id), 'o', 'a', 'as')
  local g = {}
  if f[1] then g[#g + 1] = P .. 'sg:o:' .. f[1] end
  if f[2] then g[#g + 1] = P .. 'sg:a:' .. f[2] end
  if f[3] then g[#g + 1] = P .. 'sg:s:' .. f[3] end
  return g
end
local function now_ms() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local function forget(id)
  for _, g in ipairs(groups_of(id)) do redis.call('ZREM', g, id) end
  local n = redis.call('DEL', meta(id))
  redis.call('DEL', subs(id))
  return n
end
local function touch(id, ttl)
  if redis.call('PEXPIRE', meta(id), ttl) == 0 then return 0 end
  redis.call('PEXPIRE', subs(id), ttl)
  local deadline = now_ms() + ttl
  for _, g in ipairs(groups_of(id)) do redis.call('ZADD', g, 'XX', deadline, id); redis.call('PEXPIRE', g, ttl) end
  return 1
end
`

const SCRIPTS = {
  /**
   * KEYS: meta. ARGV: prefix, id, ttl, perOwner, perAddress (0: no limit), then field, value, …
   * Makes room in the owner's and the address's group (least recently touched first), stores the
   * session and joins its groups; returns the evicted ids.
   */
  create: `${PRELUDE}
local id, ttl = ARGV[2], tonumber(ARGV[3])
local now = now_ms()
local evicted = {}
redis.call('HSET', KEYS[1], unpack(ARGV, 6))
local f = redis.call('HMGET', KEYS[1], 'o', 'a', 'as')
local function make_room(group, max)
  if max <= 0 then return end
  redis.call('ZREMRANGEBYSCORE', group, '-inf', now)
  while redis.call('ZCARD', group) >= max do
    local oldest = redis.call('ZRANGE', group, 0, 0)[1]
    if forget(oldest) == 1 then evicted[#evicted + 1] = oldest else redis.call('ZREM', group, oldest) end
  end
end
if f[1] then make_room(P .. 'sg:o:' .. f[1], tonumber(ARGV[4])) end
if f[2] then make_room(P .. 'sg:a:' .. f[2], tonumber(ARGV[5])) end
redis.call('PEXPIRE', KEYS[1], ttl)
for _, g in ipairs(groups_of(id)) do
  redis.call('ZREMRANGEBYSCORE', g, '-inf', now)
  redis.call('ZADD', g, now + ttl, id)
  redis.call('PEXPIRE', g, ttl)
end
return evicted`,
  /** KEYS: meta, subs. ARGV: prefix, id, ttl, touch (0/1). */
  get: `${PRELUDE}
local h = redis.call('HGETALL', KEYS[1])
if #h > 0 and ARGV[4] == '1' then touch(ARGV[2], tonumber(ARGV[3])) end
return h`,
  /** KEYS: meta, subs. ARGV: prefix, id, ttl. */
  touch: `${PRELUDE}
return touch(ARGV[2], tonumber(ARGV[3]))`,
  /** KEYS: meta. ARGV: field, value, … Only an existing session is patched (an ended one stays ended). */
  update: `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end redis.call('HSET', KEYS[1], unpack(ARGV)) return 1`,
  /** KEYS: meta, subs. ARGV: prefix, id. Returns whether the session existed, then the URIs it was subscribed to. */
  delete: `${PRELUDE}
local uris = redis.call('SMEMBERS', KEYS[2])
local n = forget(ARGV[2])
table.insert(uris, 1, n) return uris`,
  /** KEYS: the auth session's group. ARGV: prefix. Forgets its live sessions; returns their ids. */
  deleteGroup: `${PRELUDE}
local ended = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if forget(id) == 1 then ended[#ended + 1] = id end
end
redis.call('DEL', KEYS[1])
return ended`,
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
  if (s.clientAddress !== undefined) f.push('a', s.clientAddress)
  if (s.authSessionId !== undefined) f.push('as', s.authSessionId)
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
  const address = m.get('a')
  if (address !== undefined) s.clientAddress = address
  const authSession = m.get('as')
  if (authSession !== undefined) s.authSessionId = authSession
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
  readonly #reads = new SingleFlight<SessionState | undefined>()
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
      if (from === this.#id) return
      this.#cache.delete(id)
      this.#reads.changed()
    })
    // Notices lost while the bus was away: nothing cached before it can be trusted.
    const off = this.#bus.onReconnect(() => {
      this.#cache.clear()
      this.#reads.changed()
    })
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = () => {
      unsubscribe()
      off()
    }
  }

  async create(session: SessionState, limits?: SessionLimits): Promise<string[]> {
    const k = this.#link.keys
    const evicted = await this.#link.script<string[]>(SCRIPTS.create, [k.meta(session.id)], [
      k.prefix,
      session.id,
      this.#o.ttlMs,
      limits?.perOwner ?? 0,
      limits?.perAddress ?? 0,
      ...toFields(session),
    ])
    this.#remember(session.id, copy(session), this.#now())
    for (const id of evicted) {
      this.#cache.delete(id)
      await this.#changed(id)
    }
    return evicted.map(String)
  }

  async get(id: string, opts?: { touch?: boolean }): Promise<SessionState | undefined> {
    const now = this.#now()
    const hit = this.#cache.get(id)
    // A cached copy is only as good as the change notices: while the subscriber is down they are
    // lost, so every request reads Redis (and falls back on the copy only if Redis is away too).
    if (hit && now - hit.cachedAt < this.#o.cacheMs && now - hit.touchedAt < this.#o.ttlMs && this.#bus.hearing) {
      if (opts?.touch) this.#touchSoon(id, hit, now)
      return copy(hit.session)
    }
    const touch = opts?.touch === true
    const session = await this.#reads.run(touch ? `t${id}` : `r${id}`, () => this.#read(id, hit, touch))
    return session && copy(session)
  }

  /** Read a session from Redis (shared by the callers that missed the cache at once). */
  async #read(id: string, hit: Cached | undefined, touch: boolean): Promise<SessionState | undefined> {
    const now = this.#now()
    const epoch = this.#reads.epoch
    const k = this.#link.keys
    let h: string[]
    try {
      h = await this.#link.script<string[]>(SCRIPTS.get, [k.meta(id), k.subscriptions(id)], [k.prefix, id, this.#o.ttlMs, touch ? '1' : '0'])
    } catch (err) {
      // Redis is away: a session seen here keeps being served (nothing can change it meanwhile).
      if (err instanceof StoreUnavailable && hit && now - hit.cachedAt < STALE_IF_ERROR_MS) return hit.session
      throw err
    }
    if (h.length === 0) {
      this.#cache.delete(id)
      return undefined
    }
    const session = fromFields(id, h)
    // Without a touch this read says nothing about the expiry: only trust it briefly. A change
    // announced while it was on its way may not be in it: then it is not cached.
    if (this.#reads.current(epoch)) this.#remember(id, session, now, touch ? now : (hit?.touchedAt ?? now - this.#o.ttlMs + this.#o.cacheMs))
    return session
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
    const [existed, ...uris] = await this.#link.script<(string | number)[]>(SCRIPTS.delete, [k.meta(id), k.subscriptions(id)], [k.prefix, id])
    this.#cache.delete(id)
    // The reverse sets live in other slots: cleaned one command each (a miss only costs a lazy check later).
    await Promise.all(uris.map((uri) => this.#link.call(['SREM', k.subscribers(String(uri)), id])))
    await this.#changed(id)
    return Number(existed) === 1
  }

  async deleteByAuthSession(authSessionId: string): Promise<string[]> {
    const k = this.#link.keys
    const ids = (await this.#link.script<string[]>(SCRIPTS.deleteGroup, [k.sessionGroup('s', authSessionId)], [k.prefix])).map(String)
    for (const id of ids) {
      this.#cache.delete(id)
      await this.#changed(id)
    }
    return ids
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
    await this.#link.script(SCRIPTS.touch, [k.meta(id), k.subscriptions(id)], [k.prefix, id, this.#o.ttlMs])
  }

  async #changed(id: string): Promise<void> {
    this.#reads.changed()
    try {
      await this.#bus.publish(SESSION_CHANGED, { id, from: this.#id })
    } catch (err) {
      // The change is stored; other caches fall back on their age limit.
      console.error('[redis] could not announce a session change:', (err as Error).message)
    }
  }
}
