/**
 * @module oauth/stores
 * The authorization server's state, split by domain: registered clients, authorization codes,
 * refresh tokens, remembered consents, short-lived handles (parked authorization requests, browser
 * sign-ins, upstream GitHub states) and GitHub account links. Secrets are never stored: codes,
 * refresh tokens, client secrets and handles are kept under their SHA-256 (`hashToken`).
 *
 * Every method that must be atomic across instances is one method, and its comment says what a
 * shared implementation (Redis) makes it: one command or one Lua script. Times are epoch
 * milliseconds passed in by the caller; implementations keep no clock. The user, the grant's
 * session and its revocation live in the auth store (an OAuth grant is an `AuthSession`).
 */

import type { ClientMetadata } from './client-metadata.ts'

export type { TokenEndpointAuthMethod } from './client-metadata.ts'

/** A client registered through `/register` (RFC 7591): its checked metadata and what the server adds. */
export interface OAuthClient extends ClientMetadata {
  clientId: string
  /** SHA-256 (hex) of the client secret; confidential clients only. */
  secretHash?: string
  /** SHA-256 of the registration access token (RFC 7592 read access). */
  registrationTokenHash: string
  issuedAt: number
  /** Unused clients are forgotten; each token exchange pushes this out. */
  expiresAt: number
}

export interface ClientStore {
  /** Store a new client (Redis: SET … PX). */
  create(client: OAuthClient): Promise<void>
  /** The client, unless unknown or expired (Redis: GET). */
  get(clientId: string, now: number): Promise<OAuthClient | undefined>
  /** Keep a client that is in use (Redis: a Lua script that rewrites the record and its TTL). */
  touch(clientId: string, expiresAt: number): Promise<void>
}

/** What an authorization code stands for (RFC 6749 §4.1.2: bound to all of it). */
export interface AuthorizationCode {
  clientId: string
  redirectUri: string
  /** PKCE S256 challenge (base64url). */
  codeChallenge: string
  resource: string
  scope: string
  userId: string
  /** When the user signed in (epoch ms) and how (`email`, `github`, plus `otp` after a TOTP code). */
  authTime: number
  amr: string[]
  /** When a TOTP code was verified for this grant (admin scope), if one was. */
  mfaAt?: number
  expiresAt: number
}

export type Redemption = { code: AuthorizationCode } | { reusedBy: string } | undefined

export interface CodeStore {
  /** Store a new code's hash (Redis: SET … PX). */
  put(hash: string, code: AuthorizationCode): Promise<void>
  /**
   * Redeem a code once. The first call for a live code marks it used by `grantId` and returns it;
   * every later call returns `{ reusedBy }`, the grant the first redemption produced (so the
   * caller revokes it: RFC 6749 §4.1.2), and marks the code as presented again. Unknown or expired
   * codes are undefined. Of any number of concurrent calls exactly one gets the code (Redis: one
   * Lua script over a hash: HGET used; HSET used, reused).
   */
  redeem(hash: string, grantId: string, now: number): Promise<Redemption>
  /**
   * Whether the code was presented again after its redemption (Redis: HGET). The token endpoint
   * asks once the grant exists, so a reuse racing the first exchange still revokes it.
   */
  reused(hash: string): Promise<boolean>
}

/** What a refresh token stands for: one grant (an auth session) and what it may be exchanged for. */
export interface RefreshToken {
  grantId: string
  clientId: string
  userId: string
  scope: string
  resource: string
  authTime: number
  amr: string[]
  mfaAt?: number
  /** The grant's absolute end: rotation never extends it. */
  expiresAt: number
}

export type Rotation = 'rotated' | 'reused' | 'missing'

export interface RefreshTokenStore {
  /** Store a new token (Redis: SET … PX, and SADD to the grant's set). */
  put(hash: string, token: RefreshToken): Promise<void>
  /** The token and whether it was already used, unless unknown or expired (Redis: GET). */
  get(hash: string, now: number): Promise<{ token: RefreshToken; used: boolean } | undefined>
  /**
   * Compare-and-swap rotation: if `oldHash` is live and unused, mark it used and store `next`
   * under `newHash` (`rotated`); if it was already used, `reused` (the caller revokes the grant);
   * else `missing`. Of any number of concurrent rotations of one token exactly one is `rotated`
   * (Redis: one Lua script).
   */
  rotate(oldHash: string, newHash: string, next: RefreshToken, now: number): Promise<Rotation>
  /** Forget every token of a grant (Redis: SMEMBERS + DEL in one Lua script). */
  deleteGrant(grantId: string): Promise<void>
}

export interface ConsentStore {
  /** Remember a consent under its key until `expiresAt` (Redis: SET … PX). */
  remember(key: string, expiresAt: number): Promise<void>
  /** Redis: EXISTS (with the TTL doing expiry). */
  has(key: string, now: number): Promise<boolean>
}

/** Short-lived records addressed by the hash of a random handle the browser holds. */
export interface HandleTable<T> {
  /** Redis: SET … PX. */
  put(hash: string, value: T, expiresAt: number): Promise<void>
  /** Redis: GET. */
  get(hash: string, now: number): Promise<T | undefined>
  /** Delete and return, once: of concurrent calls exactly one gets the value (Redis: GETDEL). */
  take(hash: string, now: number): Promise<T | undefined>
  /** Redis: DEL. */
  delete(hash: string): Promise<void>
}

/** An authorization request parked while the user signs in and consents (10 minutes at most). */
export interface PendingAuthorization {
  clientId: string
  redirectUri: string
  state?: string
  codeChallenge: string
  resource: string
  scope: string
  /** SHA-256 of the browser cookie that started it: only that browser may continue it. */
  browserHash: string
  /** The CSRF token of its consent form. */
  csrf: string
}

/** A browser that signed in to the authorization server (the `mcprag_browser` cookie). */
export interface BrowserLogin {
  userId: string
  authTime: number
  amr: string[]
}

/** An upstream GitHub sign-in in flight: created only after our own pending request exists. */
export interface GithubState {
  /** The pending authorization request to return to. */
  requestId: string
  codeVerifier: string
  browserHash: string
}

export interface GithubLinkStore {
  /** Our user id for a GitHub numeric id (Redis: GET). */
  get(githubId: number): Promise<string | undefined>
  /** Link unless linked; returns the user the account is linked to now (Redis: SET NX, then GET). */
  link(githubId: number, userId: string): Promise<string>
}

export interface OAuthStores {
  clients: ClientStore
  codes: CodeStore
  refreshTokens: RefreshTokenStore
  consents: ConsentStore
  pending: HandleTable<PendingAuthorization>
  browserLogins: HandleTable<BrowserLogin>
  githubStates: HandleTable<GithubState>
  githubLinks: GithubLinkStore
  /** Drop expired records (Redis: nothing, the TTLs do it). */
  purgeExpired(now: number): Promise<void>
}

/** How long a redeemed code is remembered past its expiry, so a late replay still revokes its grant. */
export const USED_CODE_MEMORY_MS = 3_600_000
