/**
 * @module auth/stores
 * The seams for identity state, one per domain: users, the server-side session behind every bearer
 * token, TOTP state, rate-limit counters, one-time tokens (hashes only) and the audit log. Every
 * operation that must be atomic across instances (consuming a token, claiming a TOTP step,
 * counting) is one method, so a shared implementation (Redis) makes it one command or script.
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

export interface TotpState {
  userId: string
  /**
   * The confirmed authenticator: an AES-GCM box of its Base32 secret (see auth/secret-box.ts),
   * never the plain secret. Absent until an enrolment is confirmed; only this one verifies codes.
   */
  secretBox?: string
  /**
   * An enrolment started and not confirmed yet, with the auth session that started it (only that
   * session may confirm it). The confirmed authenticator stays valid meanwhile.
   */
  pending?: { secretBox: string; authSessionId: string }
  /** The newest 30-second step a code was accepted for; older or equal steps are replays. */
  lastStep?: number
  /** Wrong codes in a row (verification and confirmation alike). */
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

/** Users; email addresses are stored as given (callers normalise them once, `parseEmail`). */
export interface UserStore {
  /** Rejects when a user with that email exists. */
  create(user: { email: string; tier: Tier; now: number }): Promise<User>
  get(id: string): Promise<User | undefined>
  getByEmail(email: string): Promise<User | undefined>
  /** One page of users by creation time; `after` is the `next` of the page before. */
  list(page: { limit: number; after?: string }): Promise<{ users: User[]; next?: string }>
  setTier(id: string, tier: Tier): Promise<void>
}

/** The server-side sessions behind bearer tokens. */
export interface AuthSessionStore {
  create(session: Omit<AuthSession, 'mfaVerifiedUntil' | 'revokedAt'>): Promise<void>
  get(id: string): Promise<AuthSession | undefined>
  /**
   * A session and its user, read together (what every authenticated request checks); `user` is
   * undefined when the session's user no longer exists. A store may answer from a cache that
   * any change on any instance invalidates; `fresh` reads the store itself (admin tools).
   */
  getWithUser(id: string, opts?: { fresh?: boolean }): Promise<{ session: AuthSession; user?: User } | undefined>
  /** Atomic: only a session that is not revoked gets the MFA window. */
  setMfa(id: string, until: number): Promise<void>
  /** Atomic; returns whether a live session was revoked (false the second time). */
  revoke(id: string, now: number): Promise<boolean>
  /** Revoke every live session of a user; returns their ids. */
  revokeUser(userId: string, now: number): Promise<string[]>
}

/** TOTP state per user. Every method is one atomic step (a statement or a script). */
export interface TotpStore {
  get(userId: string): Promise<TotpState | undefined>
  /**
   * Start (or restart) an enrolment: set the pending secret and the auth session that may confirm
   * it. The confirmed secret, the last step, the failure count and the lock stay as they are.
   */
  startEnrolment(userId: string, secretBox: string, authSessionId: string): Promise<void>
  /**
   * Confirm the pending enrolment of `authSessionId`: it becomes the confirmed secret (replacing
   * any other), `lastStep` becomes `step` (the confirming code's) and nothing is pending. False,
   * changing nothing, when no enrolment of that auth session is pending (none, another session's,
   * or a concurrent confirmation won).
   */
  confirmEnrolment(userId: string, authSessionId: string, step: number): Promise<boolean>
  /** Forget the user's authenticator and any pending enrolment (operator reset). */
  delete(userId: string): Promise<void>
  /** Record `step` as used if it is newer than the last one; false means replay. */
  claimStep(userId: string, step: number): Promise<boolean>
  /** Count a failed code; reaching `maxFailures` locks verification until `now + lockMs`. */
  recordFailure(userId: string, now: number, maxFailures: number, lockMs: number): Promise<{ failures: number; lockedUntil?: number }>
  resetFailures(userId: string): Promise<void>
}

/** Fixed-window counters (rate limits), exact across every instance sharing the store. */
export interface CounterStore {
  /**
   * Count `weight` hits (at least 1) in `key`'s window, starting a new window when it ended.
   * Atomic (one upsert; INCRBY with the window's expiry in one script).
   */
  hit(key: string, windowMs: number, now: number, weight: number): Promise<CounterHit>
}

/** The kinds of one-time token; each kind is its own table, so none is redeemable as another. */
export type OneTimeTokenKind = 'login' | 'ws_ticket' | 'totp_enrolment'

/** One kind of one-time token: hashes only, consumed at most once. */
export interface OneTimeTokenTable {
  put(hash: string, value: string, expiresAt: number): Promise<void>
  /**
   * Delete and return the value in one atomic step, if the hash is there and not expired. Of any
   * number of concurrent calls with one hash, exactly one gets the value; an expired token is
   * spent by the attempt, not merely refused.
   */
  consume(hash: string, now: number): Promise<string | undefined>
}

/**
 * The audit log. No security decision reads these records back, so a store may commit them
 * without waiting for the disk (SQLite: `synchronous = NORMAL` under WAL).
 */
export interface AuditStore {
  /** Append records in their order, all or none. Called once per batch, off the request path. */
  append(records: readonly AuditRecord[]): Promise<void>
  /** Matching records, newest first. */
  query(query: AuditQuery): Promise<AuditRecord[]>
  /**
   * Retention: delete at most `limit` records older than `before` (epoch ms); returns how many
   * went (fewer than `limit`: none older is left). One statement (XTRIM MINID or a ZREMRANGEBYSCORE
   * in Redis); records are appended in time order, so the oldest go first.
   */
  purgeBefore(before: number, limit: number): Promise<number>
}

/** Every identity store, from one backend (memory, SQLite, Redis). */
export interface AuthStores {
  users: UserStore
  authSessions: AuthSessionStore
  totp: TotpStore
  counters: CounterStore
  oneTimeTokens(kind: OneTimeTokenKind): OneTimeTokenTable
  audit: AuditStore
  /**
   * Drop at most `limit` expired tokens, sessions and counters; returns how many went (fewer
   * than `limit`: nothing expired is left). A store whose records expire by themselves returns 0.
   */
  purgeExpired(now: number, limit: number): Promise<number>
  /** Resolves when the store answers a trivial query (readiness); rejects when it cannot. */
  ping(): Promise<void>
  close(): Promise<void>
}
