/**
 * @module stores/open-stores
 * The one place that picks the implementations of the seams: memory (and SQLite for identity)
 * for one instance, or shared ones when several instances serve the same sessions. The server
 * and the operator CLI both open their stores here, so they can never disagree on where users live.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { AuthStores } from '../auth/stores.ts'
import type { Config } from '../config.ts'
import type { Bus } from '../core/bus.ts'
import type { SessionStore } from '../core/session-store.ts'
import type { Streams } from '../core/streams.ts'
import { MemoryAuthStores } from './memory/memory-auth-stores.ts'
import { MemoryBus } from './memory/memory-bus.ts'
import { MemorySessionStore } from './memory/memory-session-store.ts'
import { MemoryStreams } from './memory/memory-streams.ts'
import { SqliteAuthStores } from './sqlite/sqlite-auth-stores.ts'

export interface Stores {
  sessions: SessionStore
  streams: Streams
  bus: Bus
  auth: AuthStores
  /** What readiness asks of the backends: each resolves while its backend answers. */
  checks: { name: string; run(): Promise<unknown> }[]
}

/** Open every store; `stack` closes them (in reverse order) when the server stops. */
export async function openStores(config: Config, stack: AsyncDisposableStack): Promise<Stores> {
  const auth = openAuthStores(config)
  stack.defer(() => auth.close())
  const bus = new MemoryBus()
  stack.defer(() => bus.close())
  const sessions = new MemorySessionStore({ ttlMs: config.sessionTtlMs })
  stack.defer(() => sessions.close())
  // A session's log lives as long as the session could (and at least the configured retention).
  const streams = new MemoryStreams({ retentionMs: Math.max(config.sessionTtlMs, config.streamRetentionMs), maxBytes: config.streamLogMaxBytes })
  stack.defer(() => streams.close())
  return { sessions, streams, bus, auth, checks: [{ name: 'auth_store', run: () => auth.ping() }] }
}

/**
 * The identity stores alone (the operator CLI): SQLite in the data directory when authentication
 * is on, memory when it is off (nothing to keep).
 */
export function openAuthStores(config: Config): AuthStores {
  if (!config.auth) return new MemoryAuthStores()
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  return new SqliteAuthStores(join(config.dataDir, 'mcprag.db'))
}
