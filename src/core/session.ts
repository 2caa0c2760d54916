/**
 * @module core/session
 * What the server remembers about one MCP session between requests. It is plain data so any
 * instance can load it from a shared store; nothing here holds a socket or a timer.
 */
import type { ClientCapabilities, Implementation, LogLevel, TransportKind } from './types.ts'

export interface SessionState {
  id: string
  protocolVersion: string
  clientInfo: Implementation
  clientCapabilities: ClientCapabilities
  /** Set by `notifications/initialized`. */
  initialized: boolean
  /** Minimum level for `notifications/message`; absent means the client has not asked, so all levels go. */
  logLevel?: LogLevel
  /** The principal that created the session; a session id is never authentication on its own. */
  ownerId: string
  /**
   * The auth session (bearer token's server-side record) that created it, when there is one: only
   * requests under that same auth session may use it, and revoking it (logout) ends the session.
   */
  authSessionId?: string
  /** The client address that created it (per-address session limits). */
  clientAddress?: string
  transport: TransportKind
  createdAt: number
}
