/**
 * @module transports/transport-deps
 * What every MCP transport is built from. The three transports (Streamable HTTP, legacy SSE,
 * WebSocket) feed the same core through the same collaborators; their options extend this one
 * interface so server.ts builds the shared part once and a new collaborator reaches all of them.
 */
import type { McpServer } from '../core/mcp-server.ts'
import type { Streams } from '../core/streams.ts'
import type { Principal } from '../core/types.ts'
import type { Authenticate } from './authenticate.ts'
import type { HttpGuard } from './http-guard.ts'
import type { JsonLimits } from './json-limits.ts'
import type { RevocationWatcher } from './revocation-watcher.ts'
import type { StreamLimits } from './stream-limits.ts'

/**
 * Spend `count` more of a client address's request budget (the authentication of each HTTP request
 * or upgrade spent one): the seconds to wait when it is exhausted, else undefined.
 */
export type RequestBudget = (clientAddress: string, count: number) => Promise<number | undefined>

/** Something a transport refused that is worth an audit record and a metric. */
export interface Refusal {
  /** `rate_limited` (a budget), `stream_refused` (a connection limit), `batch_refused` (too many items). */
  kind: 'rate_limited' | 'stream_refused' | 'batch_refused'
  principal?: Principal
  clientAddress?: string
  transport: string
  detail: string
}

/** The collaborators every transport shares; each transport's options add its own settings. */
export interface TransportDeps {
  /** The protocol core: sessions (find, end, keep alive), dispatch, and the outbox of unrelated messages. */
  core: McpServer
  streams: Streams
  /** Host and Origin checks (DNS rebinding, cross-site requests) before anything else. */
  guard: HttpGuard
  /** Called on every HTTP request and WebSocket upgrade, before any session lookup. */
  authenticate: Authenticate
  /**
   * How often an open connection shows it is alive: an SSE stream sends a keep-alive comment (so
   * proxies do not cut it), and a session's open stream or socket refreshes its idle deadline.
   */
  keepAliveMs: number
  /** What a JSON body or WebSocket frame may be (size, nesting, keys), checked before it is parsed. */
  json: JsonLimits
  /** The client address behind a request (per-address limits); absent: addresses are not counted. */
  addressOf?: (request: Request) => string
  /** Closes the streams and sockets of an auth session when it is revoked (logout). */
  revocations?: Pick<RevocationWatcher, 'track'>
  /** Open streams and sockets per user and per address on this instance; absent: not limited. */
  streamLimits?: StreamLimits
  /**
   * Each message of a batch, and each WebSocket message, spends the client address's request
   * budget like a request; absent (authentication off): no budget.
   */
  requestBudget?: RequestBudget
  /** Told of every refusal (audit, metrics). Must not throw. */
  refused?: (refusal: Refusal) => void
}
