/**
 * @module stores/open-stores
 * The one place that picks the implementations of the seams: with `REDIS_URL` every piece of
 * shared state lives in Redis, so any instance serves any session; without it one instance runs
 * on memory (and SQLite for identity). The server and the operator CLI both open their stores
 * here, so they can never disagree on where users live.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { MemoryCounters, type Counters } from '../auth/rate-limit.ts'
import type { AuthStores } from '../auth/stores.ts'
import type { Config, RedisConfig } from '../config.ts'
import type { Bus } from '../core/bus.ts'
import type { SessionStore } from '../core/session-store.ts'
import type { Streams } from '../core/streams.ts'
import type { OAuthStores } from '../oauth/stores.ts'
import { MemoryAuthStores } from './memory/memory-auth-stores.ts'
import { MemoryBus } from './memory/memory-bus.ts'
import { MemorySessionStore } from './memory/memory-session-store.ts'
import { memoryOAuthStores } from './memory/memory-oauth-stores.ts'
import { MemoryStreams } from './memory/memory-streams.ts'
import { RedisApproxCounters } from './redis/redis-approx-counters.ts'
import { RedisAuthStores } from './redis/redis-auth-stores.ts'
import { RedisBus } from './redis/redis-bus.ts'
import { RedisInstances } from './redis/redis-instances.ts'
import { RedisLink, redactUrl } from './redis/redis-link.ts'
import { redisOAuthStores } from './redis/redis-oauth-stores.ts'
import { RedisSessionStore } from './redis/redis-session-store.ts'
import { RedisStreams } from './redis/redis-streams.ts'
import { SqliteAuthStores } from './sqlite/sqlite-auth-stores.ts'
import { sqliteOAuthStores } from './sqlite/sqlite-oauth-stores.ts'

export interface Stores {
  kind: 'memory' | 'redis'
  sessions: SessionStore
  streams: Streams
  bus: Bus
  auth: AuthStores
  /** The authorization server's clients, codes, refresh tokens, consents and handles. */
  oauth: OAuthStores
  /** Where budgets spent on every request count (never a round trip per request). */
  requestCounters: Counters
  /** What readiness asks of the backends: each resolves while its backend answers. */
  checks: { name: string; run(): Promise<unknown> }[]
  /** What boot should tell the operator about the backends. */
  notes: string[]
}

/** Open every store; `stack` closes them (in reverse order) when the server stops. */
export async function openStores(config: Config, instanceId: string, stack: AsyncDisposableStack): Promise<Stores> {
  if (config.redis) return openRedisStores(config, config.redis, instanceId, stack)
  const auth = await openAuthStores(config)
  stack.defer(() => auth.close())
  const bus = new MemoryBus()
  stack.defer(() => bus.close())
  const sessions = new MemorySessionStore({ ttlMs: config.sessionTtlMs })
  stack.defer(() => sessions.close())
  const streams = new MemoryStreams({ retentionMs: logRetentionMs(config), maxBytes: config.streamLogMaxBytes })
  stack.defer(() => streams.close())
  // The OAuth tables live in the identity database (one file, one connection).
  const oauth = auth instanceof SqliteAuthStores ? sqliteOAuthStores(auth.db.db) : memoryOAuthStores()
  const checks = [{ name: 'auth_store', run: () => auth.ping() }]
  return { kind: 'memory', sessions, streams, bus, auth, oauth, requestCounters: new MemoryCounters(), checks, notes: [] }
}

async function openRedisStores(config: Config, redis: RedisConfig, instanceId: string, stack: AsyncDisposableStack): Promise<Stores> {
  const link = new RedisLink({ url: redis.url, prefix: redis.prefix, commandTimeoutMs: redis.commandTimeoutMs })
  await link.connect()
  stack.defer(() => link.close())
  const instances = new RedisInstances(link, instanceId)
  await instances.start()
  // Said goodbye before anything else closes: streams this instance wrote are taken over at once.
  const bus = new RedisBus(link)
  const sessions = new RedisSessionStore(link, bus, { ttlMs: config.sessionTtlMs, cacheMs: config.sessionCacheMs })
  await sessions.start()
  stack.defer(() => sessions.close())
  const streams = new RedisStreams(link, instances, { retentionMs: logRetentionMs(config), maxBytes: config.streamLogMaxBytes })
  stack.defer(() => streams.close())
  const auth = new RedisAuthStores(link, bus, { cacheMs: config.sessionCacheMs, auditMaxRecords: redis.auditMaxRecords })
  await auth.start()
  stack.defer(() => auth.close())
  const requestCounters = new RedisApproxCounters(auth.counters)
  stack.defer(async () => {
    await requestCounters.flush()
    requestCounters.close()
  })
  stack.defer(() => instances.stop())
  const check = {
    name: 'redis',
    // One blip must not pull every instance out of the load balancer: only a sustained outage fails.
    run: async () => {
      if (link.downForMs > redis.readyGraceMs) throw new Error(`Redis has been unreachable for ${Math.round(link.downForMs / 1000)} s`)
      // Without its subscriber an instance misses answers, cancellations and changes meant for it.
      if (link.subscriberDownForMs > redis.readyGraceMs) throw new Error(`the Redis subscriber has been disconnected for ${Math.round(link.subscriberDownForMs / 1000)} s`)
      if (link.downForMs === 0) await link.call(['PING'])
    },
  }
  const oauth = redisOAuthStores(link)
  return { kind: 'redis', sessions, streams, bus, auth, oauth, requestCounters, checks: [check], notes: await persistenceNotes(link, redis) }
}

/** A session's stream log lives as long as the session could (and at least the configured retention). */
const logRetentionMs = (config: Config) => Math.max(config.sessionTtlMs, config.streamRetentionMs)

/** Warn when Redis keeps nothing on disk: users, revocations and audit records would die with it. */
async function persistenceNotes(link: RedisLink, redis: RedisConfig): Promise<string[]> {
  const notes = [`shared state in Redis at ${redactUrl(redis.url)} (prefix ${redis.prefix})`]
  try {
    const info = String(await link.call(['INFO', 'persistence']))
    const aof = /aof_enabled:1/.test(info)
    let rdb = false
    try {
      const save = (await link.call<string[]>(['CONFIG', 'GET', 'save']))[1] ?? ''
      rdb = save.trim() !== ''
    } catch {
      // CONFIG may be refused by an ACL: say what is known.
    }
    if (!aof && !rdb)
      notes.push('warning: Redis does not persist (no AOF, no RDB save points): users, sessions, revocations, one-time token use and audit records are lost when it restarts. Run it with --appendonly yes (and --maxmemory-policy noeviction)')
  } catch (err) {
    notes.push(`warning: could not read Redis persistence settings: ${(err as Error).message}`)
  }
  return notes
}

/**
 * The identity stores alone (the operator CLI): Redis when shared, SQLite in the data directory
 * when authentication is on, memory when it is off (nothing to keep). `close` releases everything.
 */
export async function openAuthStores(config: Config): Promise<AuthStores> {
  if (config.redis) {
    const link = new RedisLink({ url: config.redis.url, prefix: config.redis.prefix, commandTimeoutMs: config.redis.commandTimeoutMs })
    await link.connect()
    const auth = new RedisAuthStores(link, new RedisBus(link), { cacheMs: 0, auditMaxRecords: config.redis.auditMaxRecords })
    const close = auth.close.bind(auth)
    auth.close = async () => {
      await close()
      await link.close()
    }
    return auth
  }
  if (!config.auth) return new MemoryAuthStores()
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  return new SqliteAuthStores(join(config.dataDir, 'mcprag.db'))
}
