/**
 * @module store/session-store
 * The seam for session state. The memory implementation serves one instance; a shared
 * implementation (Redis) lets any instance serve any session. Implementations expire a
 * session after `ttlMs` without a `touch`.
 */
import type { SessionState } from '../core/session.ts'

export interface SessionStore {
  create(session: SessionState): Promise<void>
  /** The session, or undefined when it never existed, ended or expired. */
  get(id: string): Promise<SessionState | undefined>
  update(id: string, patch: Partial<Omit<SessionState, 'id'>>): Promise<void>
  /** Extend the idle deadline (called on every request and by open streams' keep-alives). */
  touch(id: string): Promise<void>
  /** Returns whether the session existed. */
  delete(id: string): Promise<boolean>
  addSubscription(id: string, uri: string): Promise<void>
  removeSubscription(id: string, uri: string): Promise<void>
  /** Sessions subscribed to a resource URI (for `notifications/resources/updated`). */
  subscribers(uri: string): Promise<string[]>
  /** Stop timers and release resources. */
  close(): Promise<void>
}
