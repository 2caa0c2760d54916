/**
 * @module store/auth-store
 * The seam for identity state: users, the server-side session behind every bearer token, one-time
 * login tokens and WebSocket tickets (hashes only), TOTP state, rate-limit counters and the audit
 * log. Every operation that must be atomic across instances (consuming a login token or a ticket,
 * claiming a TOTP step, counting)
 * is one method here, so a shared implementation (Redis) can make it one command or script.
 * Times are epoch milliseconds; callers pass `now`, so implementations keep no clock.
 */
import type { Tier } from '../core/types.ts'

export interface User {
  id: string
  /** Lower-cased. */
  email: string
  tier: Tier
  createdAt: number
}

/** The server-side record behind one bearer token (its `jti`). */
export interface AuthSession {
  id: string
  userId: string
  createdAt: number
  expiresAt: number
  /** Admin tools may run on this session until then (a TOTP verification on *this* session). */
  mfaVerifiedUntil?: number
  revokedAt?: number
}

/**
 * A single-use WebSocket ticket (auth/ws-ticket.ts): the hash of the ticket and the auth session it
 * stands for. Kept apart from login tokens: a ticket must never be redeemable as a sign-in.
 */
export interface WsTicket {
  hash: string
  sessionId: string
  expiresAt: number
}

export interface TotpState {
  userId: string
  /** AES-GCM box of the Base32 secret (see auth/secret-box.ts); never the plain secret. */
  secretBox: string
  /** False between enrolment and the first correct code. */
  confirmed: boolean
  /** The newest 30-second step a code was accepted for; older or equal steps are replays. */
  lastStep?: number
  failures: number
  lockedUntil?: number
}

export interface AuditRecord {
  /** Assigned by the store, increasing. */
  id?: number
  at: number
  /** `tool_call` or an auth event such as `login_requested`, `mfa_failed`, `logout`. */
  kind: string
  outcome: string
  userId?: string
  email?: string
  /** The caller's tier at the time. */
  tier?: string
  tool?: string
  toolTier?: string
  transport?: string
  /** SHA-256 of the canonical, depth-capped JSON of the tool arguments. */
  argsDigest?: string
  latencyMs?: number
  /** Short human-readable context; never a token, code or secret. */
  detail?: string
  clientAddress?: string
}

export interface AuditQuery {
  since?: number
  until?: number
  userId?: string
  email?: string
  kind?: string
  tool?: string
  outcome?: string
  /** At most this many, newest first. */
  limit: number
}

export interface CounterHit {
  /** Hits in the current window, this one included. */
  count: number
  /** When the window ends (epoch ms). */
  resetAt: number
}

export interface AuthStore {
  createUser(user: { email: string; tier: Tier; now: number }): Promise<User>
  getUser(id: string): Promise<User | undefined>
  getUserByEmail(email: string): Promise<User | undefined>
  listUsers(): Promise<User[]>
  setUserTier(id: string, tier: Tier): Promise<void>

  createSession(session: Omit<AuthSession, 'mfaVerifiedUntil' | 'revokedAt'>): Promise<void>
  getSession(id: string): Promise<AuthSession | undefined>
  /**
   * A session and its user, read together (what every authenticated request checks); `user` is
   * undefined when the session's user no longer exists.
   */
  getSessionWithUser(id: string): Promise<{ session: AuthSession; user?: User } | undefined>
  setSessionMfa(id: string, until: number): Promise<void>
  /** Returns whether a live session was revoked. */
  revokeSession(id: string, now: number): Promise<boolean>
  /** Revoke every live session of a user; returns their ids. */
  revokeUserSessions(userId: string, now: number): Promise<string[]>

  /** Store a login token's hash; the token itself is never stored. */
  putLoginToken(token: { hash: string; email: string; expiresAt: number }): Promise<void>
  /**
   * Delete and return the token's email in one atomic step, if it exists and has not expired.
   * Of any number of concurrent calls with one hash, exactly one gets the email.
   */
  consumeLoginToken(hash: string, now: number): Promise<string | undefined>

  /** Store a WebSocket ticket's hash; the ticket itself is never stored. */
  putWsTicket(ticket: WsTicket): Promise<void>
  /**
   * Delete and return the ticket's auth session id in one atomic step, if it exists and has not
   * expired. Of any number of concurrent calls with one hash, exactly one gets the id.
   */
  consumeWsTicket(hash: string, now: number): Promise<string | undefined>

  getTotp(userId: string): Promise<TotpState | undefined>
  /** Start (or restart) enrolment: a new unconfirmed secret, fresh counters. */
  putTotp(userId: string, secretBox: string): Promise<void>
  confirmTotp(userId: string): Promise<void>
  deleteTotp(userId: string): Promise<void>
  /** Atomically record `step` as used if it is newer than the last one; false means replay. */
  claimTotpStep(userId: string, step: number): Promise<boolean>
  /** Count a failed code; reaching `maxFailures` locks verification until `now + lockMs`. */
  recordTotpFailure(userId: string, now: number, maxFailures: number, lockMs: number): Promise<{ failures: number; lockedUntil?: number }>
  resetTotpFailures(userId: string): Promise<void>

  /** Fixed-window counter: count this hit in `key`'s window, starting a new window when it ended. */
  hit(key: string, windowMs: number, now: number): Promise<CounterHit>

  /**
   * Append records in their order, all or none (one transaction). The audit log calls this once
   * per batch, off the request path. No security decision reads these records back, so a store
   * may commit them without waiting for the disk (SQLite: `synchronous = NORMAL` under WAL, where
   * a process crash loses nothing committed and a power loss at most the last batches); every
   * other write (tokens, TOTP state, sessions, counters) keeps its full sync.
   */
  appendAudit(records: readonly AuditRecord[]): Promise<void>
  queryAudit(query: AuditQuery): Promise<AuditRecord[]>

  /** Drop expired login tokens, WebSocket tickets, sessions and counters. */
  purgeExpired(now: number): Promise<void>
  /** Resolves when the store answers a trivial query (readiness); rejects when it cannot. */
  ping(): Promise<void>
  close(): Promise<void>
}

/** How the stores normalise an address before storing or looking it up. */
export const normaliseEmail = (email: string) => email.trim().toLowerCase()
