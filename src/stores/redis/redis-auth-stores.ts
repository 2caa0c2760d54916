/**
 * @module stores/redis/redis-auth-stores
 * The identity stores in Redis, shared by every instance. Every atomic operation of the
 * interfaces is one command or one Lua script on one key: a one-time token is consumed with
 * `GETDEL`, a TOTP step is claimed by compare-and-set, a counter counts and reports its window
 * in one script. Records that expire carry a TTL, so nothing needs purging.
 *
 * `authSessions.getWithUser` runs on every authenticated request. Its answers are cached here
 * until `cacheMs` old, and dropped at once when any instance revokes, verifies or re-tiers
 * (announced on the bus); the cache is not read while this instance's subscriber is down (those
 * announcements would be lost); `fresh` reads bypass it (admin tools re-check revocation).
 * Audit records go to one Redis Stream, one entry per batch (records numbered by a counter in the
 * same script), trimmed to about `auditMaxRecords` entries; queries filter the newest records (at
 * most `AUDIT_SCAN_MAX` of them) in this process.
 */
import type {
  AuditQuery,
  AuditRecord,
  AuditStore,
  AuthSession,
  AuthSessionStore,
  AuthStores,
  CounterHit,
  CounterStore,
  OneTimeTokenKind,
  OneTimeTokenTable,
  TotpState,
  TotpStore,
  User,
  UserStore,
} from '../../auth/stores.ts'
import { topic, type Bus, type Unsubscribe } from '../../core/bus.ts'
import { StoreUnavailable } from '../../core/errors.ts'
import type { Tier } from '../../core/types.ts'
import type { RedisLink } from './redis-link.ts'
import { SingleFlight } from './single-flight.ts'

/** Auth sessions or users changed somewhere: cached reads are dropped. Lost: entries age out. */
const AUTH_CHANGED = topic<{ from: string }>('auth-changed')
const MAX_CACHED = 50_000
/** How long a cached read is still served while Redis cannot be asked. */
const STALE_IF_ERROR_MS = 5 * 60_000
/** Audit records a query looks through, newest first, before it stops. */
export const AUDIT_SCAN_MAX = 50_000
/** Counters kept past their window (clocks of instances differ a little). */
const SLACK_MS = 60_000

const pairs = (h: string[]) => {
  const m = new Map<string, string>()
  for (let i = 0; i + 1 < h.length; i += 2) m.set(h[i]!, h[i + 1]!)
  return m
}

class RedisUsers implements UserStore {
  constructor(
    private readonly link: RedisLink,
    private readonly changed: () => Promise<void>,
  ) {}

  async create(u: { email: string; tier: Tier; now: number }): Promise<User> {
    const k = this.link.keys
    const user: User = { id: crypto.randomUUID(), email: u.email, tier: u.tier, createdAt: u.now }
    // The email key is the uniqueness check (SET NX); the rest follows it.
    const claimed = await this.link.call(['SET', k.userByEmail(u.email), user.id, 'NX'])
    if (claimed === null) throw new Error(`A user with email ${u.email} already exists`)
    await this.link.call(['HSET', k.user(user.id), 'email', user.email, 'tier', user.tier, 'created', String(user.createdAt)])
    await this.link.call(['ZADD', k.users(), '0', `${String(user.createdAt).padStart(15, '0')}:${user.id}`])
    return user
  }

  async get(id: string): Promise<User | undefined> {
    const h = pairs(await this.link.call<string[]>(['HGETALL', this.link.keys.user(id)]))
    if (!h.has('email')) return undefined
    return { id, email: h.get('email')!, tier: h.get('tier') as Tier, createdAt: Number(h.get('created')) }
  }

  async getByEmail(email: string): Promise<User | undefined> {
    const id = await this.link.call(['GET', this.link.keys.userByEmail(email)])
    return typeof id === 'string' ? this.get(id) : undefined
  }

  async list(page: { limit: number; after?: string }): Promise<{ users: User[]; next?: string }> {
    const k = this.link.keys
    let from = '-'
    if (page.after !== undefined) {
      const after = await this.get(page.after)
      if (after) from = `(${String(after.createdAt).padStart(15, '0')}:${after.id}`
    }
    const members = await this.link.call<string[]>(['ZRANGE', k.users(), from, '+', 'BYLEX', 'LIMIT', '0', String(page.limit + 1)])
    const found = await Promise.all(members.slice(0, page.limit).map((m) => this.get(m.slice(m.indexOf(':') + 1))))
    const users = found.filter((u): u is User => u !== undefined)
    return members.length > page.limit && users.length ? { users, next: users.at(-1)!.id } : { users }
  }

  async setTier(id: string, tier: Tier): Promise<void> {
    const k = this.link.keys
    await this.link.script(`if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'tier', ARGV[1]) end return 1`, [k.user(id)], [tier])
    await this.changed()
  }
}

const SESSION_SCRIPTS = {
  /** KEYS: session. ARGV: until. */
  setMfa: `if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'mfa', ARGV[1]) return 1`,
  /** KEYS: session. ARGV: now. */
  revoke: `if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HEXISTS', KEYS[1], 'revoked') == 1 then return 0 end
redis.call('HSET', KEYS[1], 'revoked', ARGV[1]) return 1`,
}

interface CachedSession {
  found: { session: AuthSession; user?: User } | undefined
  at: number
}

class RedisAuthSessions implements AuthSessionStore {
  readonly #cache = new Map<string, CachedSession>()
  readonly #reads = new SingleFlight<CachedSession['found']>()

  constructor(
    private readonly link: RedisLink,
    private readonly bus: Bus,
    private readonly users: RedisUsers,
    private readonly cacheMs: number,
    private readonly changed: () => Promise<void>,
  ) {}

  forget(): void {
    this.#cache.clear()
    this.#reads.changed()
  }

  async create(s: Omit<AuthSession, 'mfaVerifiedUntil' | 'revokedAt'>): Promise<void> {
    const k = this.link.keys
    // Gone when it expires (a record past its expiry is as good as none, so one is not even kept).
    const ttl = s.expiresAt - Date.now()
    if (ttl <= 0) return
    await this.link.call(['HSET', k.authSession(s.id), 'user', s.userId, 'created', String(s.createdAt), 'expires', String(s.expiresAt)])
    await this.link.call(['PEXPIRE', k.authSession(s.id), String(ttl)])
    await this.link.call(['SADD', k.userAuthSessions(s.userId), s.id])
  }

  async get(id: string): Promise<AuthSession | undefined> {
    const h = pairs(await this.link.call<string[]>(['HGETALL', this.link.keys.authSession(id)]))
    if (!h.has('user')) return undefined
    const s: AuthSession = { id, userId: h.get('user')!, createdAt: Number(h.get('created')), expiresAt: Number(h.get('expires')) }
    if (h.has('mfa')) s.mfaVerifiedUntil = Number(h.get('mfa'))
    if (h.has('revoked')) s.revokedAt = Number(h.get('revoked'))
    return s
  }

  async getWithUser(id: string, opts?: { fresh?: boolean }): Promise<{ session: AuthSession; user?: User } | undefined> {
    const now = Date.now()
    const hit = opts?.fresh ? undefined : this.#cache.get(id)
    // While the subscriber is down a revocation elsewhere would go unheard: read Redis instead.
    if (hit && now - hit.at < this.cacheMs && this.bus.hearing) return hit.found && copyFound(hit.found)
    // A fresh read (admin tools) must start after the call did: it joins no read in flight.
    const found = opts?.fresh ? await this.#read(id, hit) : await this.#reads.run(id, () => this.#read(id, hit))
    return found && copyFound(found)
  }

  /** Read an auth session and its user (shared by the callers that missed the cache at once). */
  async #read(id: string, hit: CachedSession | undefined): Promise<CachedSession['found']> {
    const now = Date.now()
    const epoch = this.#reads.epoch
    let session: AuthSession | undefined
    let user: User | undefined
    try {
      session = await this.get(id)
      user = session && (await this.users.get(session.userId))
    } catch (err) {
      // Redis is away: what was read here keeps standing (no revocation can be stored meanwhile);
      // `fresh` reads (admin tools) fail closed.
      if (err instanceof StoreUnavailable && hit && now - hit.at < STALE_IF_ERROR_MS) return hit.found
      throw err
    }
    const found = session && (user ? { session, user } : { session })
    // A change announced while the read was on its way may not be in it: then it is not cached.
    if (this.cacheMs > 0 && this.#reads.current(epoch)) {
      if (this.#cache.size >= MAX_CACHED) this.#cache.clear()
      this.#cache.set(id, { found, at: now })
    }
    return found
  }

  async setMfa(id: string, until: number): Promise<void> {
    await this.link.script(SESSION_SCRIPTS.setMfa, [this.link.keys.authSession(id)], [until])
    await this.changed()
  }

  async revoke(id: string, now: number): Promise<boolean> {
    const done = Number(await this.link.script(SESSION_SCRIPTS.revoke, [this.link.keys.authSession(id)], [now])) === 1
    await this.changed()
    return done
  }

  async revokeUser(userId: string, now: number): Promise<string[]> {
    const k = this.link.keys
    const ids = await this.link.call<string[]>(['SMEMBERS', k.userAuthSessions(userId)])
    const revoked: string[] = []
    const gone: string[] = []
    for (const id of ids) {
      const r = Number(await this.link.script(SESSION_SCRIPTS.revoke, [k.authSession(id)], [now]))
      if (r === 1) revoked.push(id)
      else if (Number(await this.link.call(['EXISTS', k.authSession(id)])) === 0) gone.push(id)
    }
    if (gone.length) await this.link.call(['SREM', k.userAuthSessions(userId), ...gone])
    await this.changed()
    return revoked
  }
}

const copyFound = (f: { session: AuthSession; user?: User }) => (f.user ? { session: { ...f.session }, user: { ...f.user } } : { session: { ...f.session } })

const TOTP_SCRIPTS = {
  /** KEYS: totp. ARGV: step. */
  claim: `if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local last = redis.call('HGET', KEYS[1], 'step')
if last and tonumber(last) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'step', ARGV[1]) return 1`,
  /** KEYS: totp. ARGV: now, max failures, lock ms. Returns {failures, locked until or -1}. */
  fail: `if redis.call('EXISTS', KEYS[1]) == 0 then return {0, -1} end
local now = tonumber(ARGV[1])
local locked = redis.call('HGET', KEYS[1], 'locked')
local failures = tonumber(redis.call('HGET', KEYS[1], 'failures') or '0')
if locked and tonumber(locked) <= now then failures = 0; locked = nil; redis.call('HDEL', KEYS[1], 'locked') end
failures = failures + 1
redis.call('HSET', KEYS[1], 'failures', failures)
if failures >= tonumber(ARGV[2]) then locked = now + tonumber(ARGV[3]); redis.call('HSET', KEYS[1], 'locked', locked) end
return {failures, locked and tonumber(locked) or -1}`,
  /**
   * KEYS: totp. ARGV: box, auth session. The confirmed secret, step, failures and lock stay. Hashes
   * written before pending enrolments were kept apart have a `confirmed` flag: an unconfirmed
   * secret there is dropped (that user starts again), a confirmed one stays as `box`.
   */
  start: `if redis.call('HGET', KEYS[1], 'confirmed') == '0' then redis.call('HDEL', KEYS[1], 'box') end
redis.call('HDEL', KEYS[1], 'confirmed')
redis.call('HSET', KEYS[1], 'pbox', ARGV[1], 'psess', ARGV[2])
redis.call('HSETNX', KEYS[1], 'failures', '0') return 1`,
  /** KEYS: totp. ARGV: auth session, step. Only that session's pending enrolment is confirmed. */
  confirm: `if not redis.call('HGET', KEYS[1], 'pbox') or redis.call('HGET', KEYS[1], 'psess') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'box', redis.call('HGET', KEYS[1], 'pbox'), 'step', ARGV[2])
redis.call('HDEL', KEYS[1], 'pbox', 'psess', 'confirmed') return 1`,
}

class RedisTotp implements TotpStore {
  constructor(private readonly link: RedisLink) {}

  async get(userId: string): Promise<TotpState | undefined> {
    const h = pairs(await this.link.call<string[]>(['HGETALL', this.link.keys.totp(userId)]))
    if (h.size === 0) return undefined
    const t: TotpState = { userId, failures: Number(h.get('failures') ?? 0) }
    // A `confirmed` flag of '0' marks an unconfirmed secret of an older hash (see `start`).
    if (h.has('box') && h.get('confirmed') !== '0') t.secretBox = h.get('box')!
    if (h.has('pbox')) t.pending = { secretBox: h.get('pbox')!, authSessionId: h.get('psess') ?? '' }
    if (h.has('step')) t.lastStep = Number(h.get('step'))
    if (h.has('locked')) t.lockedUntil = Number(h.get('locked'))
    return t
  }

  async startEnrolment(userId: string, secretBox: string, authSessionId: string): Promise<void> {
    await this.link.script(TOTP_SCRIPTS.start, [this.link.keys.totp(userId)], [secretBox, authSessionId])
  }

  async confirmEnrolment(userId: string, authSessionId: string, step: number): Promise<boolean> {
    return Number(await this.link.script(TOTP_SCRIPTS.confirm, [this.link.keys.totp(userId)], [authSessionId, step])) === 1
  }

  async delete(userId: string): Promise<void> {
    await this.link.call(['DEL', this.link.keys.totp(userId)])
  }

  async claimStep(userId: string, step: number): Promise<boolean> {
    return Number(await this.link.script(TOTP_SCRIPTS.claim, [this.link.keys.totp(userId)], [step])) === 1
  }

  async recordFailure(userId: string, now: number, maxFailures: number, lockMs: number) {
    const [failures, locked] = await this.link.script<number[]>(TOTP_SCRIPTS.fail, [this.link.keys.totp(userId)], [now, maxFailures, lockMs])
    return Number(locked) < 0 ? { failures: Number(failures) } : { failures: Number(failures), lockedUntil: Number(locked) }
  }

  async resetFailures(userId: string): Promise<void> {
    await this.link.script(`if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'failures', '0'); redis.call('HDEL', KEYS[1], 'locked') end return 1`, [this.link.keys.totp(userId)], [])
  }
}

/** KEYS: counter. ARGV: now, window ms, keep ms, hits. Returns {count, reset at}. */
const HIT = `local now = tonumber(ARGV[1])
local n = tonumber(ARGV[4])
local reset = tonumber(redis.call('HGET', KEYS[1], 'reset') or '0')
local count
if reset <= now then
  count = n; reset = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'count', n, 'reset', reset)
else
  count = redis.call('HINCRBY', KEYS[1], 'count', n)
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {count, reset}`

export class RedisCounters implements CounterStore {
  constructor(private readonly link: RedisLink) {}

  async hit(key: string, windowMs: number, now: number, weight: number): Promise<CounterHit> {
    return this.add(key, weight, windowMs, now)
  }

  /** Count `n` hits at once (approximate counters flush their local counts this way). */
  async add(key: string, n: number, windowMs: number, now: number): Promise<CounterHit> {
    const [count, resetAt] = await this.link.script<number[]>(HIT, [this.link.keys.counter(key)], [now, windowMs, windowMs + SLACK_MS, Math.floor(n)])
    return { count: Number(count), resetAt: Number(resetAt) }
  }
}

class RedisTokenTable implements OneTimeTokenTable {
  constructor(
    private readonly link: RedisLink,
    private readonly kind: OneTimeTokenKind,
  ) {}

  async put(hash: string, value: string, expiresAt: number): Promise<void> {
    const ttl = expiresAt - Date.now()
    if (ttl <= 0) return
    await this.link.call(['SET', this.link.keys.oneTimeToken(this.kind, hash), `${expiresAt}|${value}`, 'PX', String(ttl)])
  }

  async consume(hash: string, now: number): Promise<string | undefined> {
    const raw = await this.link.call(['GETDEL', this.link.keys.oneTimeToken(this.kind, hash)])
    if (typeof raw !== 'string') return undefined
    const bar = raw.indexOf('|')
    return Number(raw.slice(0, bar)) > now ? raw.slice(bar + 1) : undefined
  }
}

const AUDIT_FIELDS: (keyof AuditRecord)[] = ['at', 'kind', 'outcome', 'userId', 'email', 'tier', 'tool', 'toolTier', 'transport', 'argsDigest', 'latencyMs', 'detail', 'clientAddress']

/**
 * KEYS: log, id counter. ARGV: max entries, record count, records (a JSON array). One entry per
 * batch, not per record: a call costs the log no command of its own (records are numbered here).
 */
const APPEND = `local last = redis.call('INCRBY', KEYS[2], ARGV[2])
redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'i', last - tonumber(ARGV[2]) + 1, 'r', ARGV[3])
return last`

/**
 * KEYS: log, purge mark. ARGV: before (epoch ms), limit. Retention, oldest first: records whose
 * `at` is before `before`, at most `limit`, stopping at the first newer one. An entry holds a
 * batch, so the mark (the lowest record id still kept) hides a batch's purged head until the
 * whole entry can go. Returns how many records went.
 */
const PURGE = `local mark = tonumber(redis.call('GET', KEYS[2]) or '0')
local before, limit = tonumber(ARGV[1]), tonumber(ARGV[2])
local removed = 0
while removed < limit do
  local entries = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 16)
  if #entries == 0 then break end
  local stop = false
  for _, e in ipairs(entries) do
    local first = tonumber(e[2][2])
    local batch = cjson.decode(e[2][4])
    local i = math.max(mark - first, 0)
    while i < #batch and removed < limit and batch[i + 1].at < before do i = i + 1; removed = removed + 1 end
    if first + i > mark then mark = first + i end
    if i < #batch then stop = true break end
    redis.call('XDEL', KEYS[1], e[1])
    if removed >= limit then stop = true break end
  end
  if stop then break end
end
if mark > 0 then redis.call('SET', KEYS[2], mark) end
return removed`

class RedisAudit implements AuditStore {
  constructor(
    private readonly link: RedisLink,
    private readonly maxBatches: number,
  ) {}

  async append(records: readonly AuditRecord[]): Promise<void> {
    if (records.length === 0) return
    const k = this.link.keys
    await this.link.script(APPEND, [k.audit(), k.auditIds()], [this.maxBatches, records.length, JSON.stringify(records.map(pick))])
  }

  async query(q: AuditQuery): Promise<AuditRecord[]> {
    const out: AuditRecord[] = []
    // Records below the purge mark are gone (the rest of their batch is still in the log).
    const mark = Number((await this.link.call(['GET', this.link.keys.auditPurgeMark()])) ?? 0)
    let end = '+'
    for (let scanned = 0; scanned < AUDIT_SCAN_MAX && out.length < q.limit; ) {
      const page = await this.link.call<[string, string[]][]>(['XREVRANGE', this.link.keys.audit(), end, '-', 'COUNT', '100'])
      if (page.length === 0) break
      for (const [, fields] of page) {
        const f = pairs(fields)
        const first = Number(f.get('i'))
        const batch = JSON.parse(f.get('r') ?? '[]') as AuditRecord[]
        // Newest first: the batch's records in reverse.
        for (let i = batch.length - 1; i >= 0; i--) {
          const r = { ...batch[i]!, id: first + i }
          if (r.id < mark) return out
          if (q.since !== undefined && r.at < q.since) return out
          if (matches(r, q)) out.push(r)
          if (out.length >= q.limit) return out
        }
        scanned += batch.length
      }
      end = `(${page.at(-1)![0]}`
    }
    return out
  }

  async purgeBefore(before: number, limit: number): Promise<number> {
    const k = this.link.keys
    return Number(await this.link.script(PURGE, [k.audit(), k.auditPurgeMark()], [Math.floor(before), limit]))
  }
}

function pick(r: AuditRecord): Partial<AuditRecord> {
  const out: Record<string, unknown> = {}
  for (const f of AUDIT_FIELDS) if (r[f] !== undefined) out[f] = r[f]
  return out as Partial<AuditRecord>
}

function matches(r: AuditRecord, q: AuditQuery): boolean {
  return (
    (q.until === undefined || r.at <= q.until) &&
    (q.userId === undefined || r.userId === q.userId) &&
    (q.email === undefined || r.email === q.email) &&
    (q.kind === undefined || r.kind === q.kind) &&
    (q.tool === undefined || r.tool === q.tool) &&
    (q.outcome === undefined || r.outcome === q.outcome)
  )
}

export interface RedisAuthStoresOptions {
  /** How long a cached auth session stands without a change notice. */
  cacheMs: number
  /** Audit batches kept (approximately, each one or more records) before the oldest are trimmed. */
  auditMaxRecords: number
}

export class RedisAuthStores implements AuthStores {
  readonly users: RedisUsers
  readonly authSessions: RedisAuthSessions
  readonly totp: RedisTotp
  readonly counters: RedisCounters
  readonly audit: RedisAudit
  readonly #link: RedisLink
  readonly #bus: Bus
  readonly #id = crypto.randomUUID()
  readonly #tables = new Map<OneTimeTokenKind, RedisTokenTable>()
  #unsubscribe: Unsubscribe = () => {}

  constructor(link: RedisLink, bus: Bus, opts: RedisAuthStoresOptions) {
    this.#link = link
    this.#bus = bus
    const changed = () => this.#announce()
    this.users = new RedisUsers(link, changed)
    this.authSessions = new RedisAuthSessions(link, bus, this.users, opts.cacheMs, changed)
    this.totp = new RedisTotp(link)
    this.counters = new RedisCounters(link)
    this.audit = new RedisAudit(link, opts.auditMaxRecords)
  }

  /** Listen for other instances' changes (resolves once listening). */
  async start(): Promise<void> {
    const unsubscribe = await this.#bus.subscribe(AUTH_CHANGED, ({ from }) => {
      if (from !== this.#id) this.authSessions.forget()
    })
    const off = this.#bus.onReconnect(() => this.authSessions.forget())
    this.#unsubscribe = () => {
      unsubscribe()
      off()
    }
  }

  oneTimeTokens(kind: OneTimeTokenKind): OneTimeTokenTable {
    let table = this.#tables.get(kind)
    if (!table) this.#tables.set(kind, (table = new RedisTokenTable(this.#link, kind)))
    return table
  }

  async purgeExpired(): Promise<number> {
    // Tokens, sessions and counters carry TTLs: Redis drops them itself.
    return 0
  }

  async ping(): Promise<void> {
    await this.#link.call(['PING'])
  }

  async close(): Promise<void> {
    this.#unsubscribe()
  }

  async #announce(): Promise<void> {
    this.authSessions.forget()
    try {
      await this.#bus.publish(AUTH_CHANGED, { from: this.#id })
    } catch (err) {
      console.error('[redis] could not announce an auth change:', (err as Error).message)
    }
  }
}
