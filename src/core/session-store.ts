/**
 * @module core/session-store
 * The seam for MCP session state. The memory implementation serves one instance; a shared one
 * (Redis) lets any instance serve any session. A session idles out `ttlMs` after its last touch;
 * nothing is called back then (a network store's TTL calls nobody): whatever else a session
 * owns (its stream log) expires by itself, and connections keep their session alive by touching.
 * Touching also moves a session to the back of its owner's and address's eviction order.
 */
import type { JsonRpcResponse, RequestId } from './jsonrpc.ts'
import type { SessionState } from './session.ts'

/** How many live sessions one owner, and one client address, may hold (counted across instances). */
export interface SessionLimits {
  perOwner: number
  perAddress: number
}

export interface SessionStore {
  /**
   * Store a new session; resolved once any instance can find it. With `limits`, make room first:
   * while the session's owner holds `perOwner` live sessions or more (or its `clientAddress`
   * holds `perAddress`), forget the one of that group touched least recently. Counting, choosing,
   * forgetting and storing are one atomic step (one Lua script in Redis: a sorted set per owner
   * and per address, scored by idle deadline), so concurrent creates never overshoot. Returns the
   * ids it forgot, for the caller to end (their streams and running work); [] when none.
   */
  create(session: SessionState, limits?: SessionLimits): Promise<string[]>
  /**
   * A copy of the session (the caller may change it; only `update` stores changes), or undefined
   * when it never existed, ended or expired. `touch` also extends its idle deadline.
   */
  get(id: string, opts?: { touch?: boolean }): Promise<SessionState | undefined>
  update(id: string, patch: Partial<Omit<SessionState, 'id'>>): Promise<void>
  /** Extend the idle deadline (open streams' keep-alive ticks). */
  touch(id: string): Promise<void>
  /** Forget the session and its subscriptions. Idempotent; returns whether it existed. */
  delete(id: string): Promise<boolean>
  /**
   * Forget every live session opened under this auth session (`SessionState.authSessionId`:
   * logout or revocation of the token that opened them), atomically; returns their ids for the
   * caller to end. Idempotent: a second call returns [].
   */
  deleteByAuthSession(authSessionId: string): Promise<string[]>
  addSubscription(id: string, uri: string): Promise<void>
  removeSubscription(id: string, uri: string): Promise<void>
  /** Live sessions subscribed to a resource URI (for `notifications/resources/updated`). */
  subscribers(uri: string): Promise<string[]>
  /**
   * Keep the client's answer to a server request until the instance that asked takes it (it may
   * be busy reconnecting when the wake-up is published). Kept at most `ttlMs`.
   */
  putReply(sessionId: string, requestId: RequestId, response: JsonRpcResponse, ttlMs: number): Promise<void>
  /** Take (read and delete, atomically) a kept reply. */
  takeReply(sessionId: string, requestId: RequestId): Promise<JsonRpcResponse | undefined>
  close(): Promise<void>
}
