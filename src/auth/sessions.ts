/**
 * @module auth/sessions
 * Server-side sessions behind bearer tokens. A token is valid only while its session record
 * exists, is not revoked and has not expired, so logout and revocation take effect on the next
 * request on every instance sharing the store; `onRevoked` tells the transports to close streams.
 *
 * Each principal `resolve` returns is remembered with what the store said (tier, MFA window,
 * expiry) for `RESOLVED_FRESH_MS`, so the tool-call check of the same request (tier-policy.ts)
 * need not read the session and user again microseconds later. It is no cache across requests:
 * every request asks the store. It is dropped early when any session is revoked or verified
 * on this instance, or a revocation is announced on the bus (`invalidate`).
 */
import { randomBytes } from 'node:crypto'
import type { Principal, Tier } from '../core/types.ts'
import type { SessionTokenClaims, SessionTokens } from './jwt.ts'
import type { AuthSessionStore, User } from './stores.ts'

export interface IssuedSession {
  token: string
  sessionId: string
  /** Epoch ms. */
  expiresAt: number
}

/** Why a presented token was refused (audit detail; the client sees one `invalid_token`). */
export type TokenRejection = 'malformed_or_forged' | 'unknown_session' | 'revoked' | 'expired' | 'unknown_user'

/** How long what a request's authentication read stands for that request's tool-call check. */
export const RESOLVED_FRESH_MS = 1000

/** What the store said about a principal's session and user when it was resolved. */
export interface ResolvedState {
  tier: Tier
  /** Epoch ms. */
  expiresAt: number
  mfaVerifiedUntil?: number
}

export interface AuthSessionsOptions {
  store: AuthSessionStore
  tokens: SessionTokens
  now: () => number
  ttlMs: number
  mfaWindowMs: number
  /** Called with the ids of sessions just revoked (publish on the bus). */
  onRevoked: (sessionIds: string[]) => void
}

/** 256 random bits: session ids must not be guessable (a UUID has only 122). */
export const newSessionId = () => randomBytes(32).toString('base64url')

export class AuthSessions {
  readonly #o: AuthSessionsOptions
  readonly #resolved = new WeakMap<Principal, ResolvedState & { at: number; epoch: number }>()
  /** Bumped by every revocation or MFA change seen here: older resolutions are not reused. */
  #epoch = 0

  constructor(opts: AuthSessionsOptions) {
    this.#o = opts
  }

  /**
   * What the store said when `principal` was resolved, if that was less than `RESOLVED_FRESH_MS`
   * ago and no session changed since; undefined means: read the store.
   */
  recentState(principal: Principal): ResolvedState | undefined {
    const r = this.#resolved.get(principal)
    if (r === undefined || r.epoch !== this.#epoch) return undefined
    const age = this.#o.now() - r.at
    return age >= 0 && age < RESOLVED_FRESH_MS ? r : undefined
  }

  /** Forget every resolution (a session was revoked elsewhere: the bus said so). */
  invalidate(): void {
    this.#epoch++
  }

  get mfaWindowMs(): number {
    return this.#o.mfaWindowMs
  }

  /** Open a session for a user and mint its token. `ttlMs` defaults to the configured session TTL. */
  async start(user: User, ttlMs = this.#o.ttlMs): Promise<IssuedSession> {
    const { sessionId, expiresAt } = await this.open(user.id, ttlMs)
    const token = await this.#o.tokens.sign({ userId: user.id, sessionId, expiresAt })
    return { token, sessionId, expiresAt }
  }

  /**
   * Open a session without a token: the record an OAuth grant stands on (the token endpoint mints
   * its access tokens with `accessToken`). Revoking it ends every token of the grant at once.
   */
  async open(userId: string, ttlMs: number, sessionId = newSessionId()): Promise<{ sessionId: string; expiresAt: number }> {
    const now = this.#o.now()
    const expiresAt = now + ttlMs
    await this.#o.store.create({ id: sessionId, userId, createdAt: now, expiresAt })
    return { sessionId, expiresAt }
  }

  /** An OAuth access token on a session (`open`): never outliving it, bound to one resource, client and scope set. */
  async accessToken(c: Required<Pick<SessionTokenClaims, 'userId' | 'sessionId' | 'audience' | 'clientId' | 'scope' | 'amr'>>, ttlMs: number, sessionExpiresAt: number): Promise<{ token: string; expiresAt: number }> {
    const expiresAt = Math.min(this.#o.now() + ttlMs, sessionExpiresAt)
    return { token: await this.#o.tokens.sign({ ...c, expiresAt }), expiresAt }
  }

  /** The caller behind a bearer token, or why it is refused. Tier and email come from the store. */
  async resolve(token: string): Promise<Principal | { rejected: TokenRejection }> {
    const claims = await this.#o.tokens.verify(token)
    if (!claims) return { rejected: 'malformed_or_forged' }
    const principal = await this.#principal(claims.sessionId, claims.userId)
    if ('rejected' in principal || claims.clientId === undefined) return principal
    // Same object (the recent-state memo is keyed by it): the OAuth grant's client, scopes and resource.
    return Object.assign(principal, { clientId: claims.clientId, scopes: claims.scope!.split(' ').filter(Boolean), resource: claims.audience })
  }

  /**
   * The caller behind an auth session id (what a redeemed WebSocket ticket names), with the same
   * checks a bearer token gets: the session is live and its user still exists.
   */
  resolveSession(sessionId: string): Promise<Principal | { rejected: TokenRejection }> {
    return this.#principal(sessionId)
  }

  async #principal(sessionId: string, userId?: string): Promise<Principal | { rejected: TokenRejection }> {
    const found = await this.#o.store.getWithUser(sessionId)
    const session = found?.session
    if (!session || (userId !== undefined && session.userId !== userId)) return { rejected: 'unknown_session' }
    if (session.revokedAt !== undefined) return { rejected: 'revoked' }
    if (session.expiresAt <= this.#o.now()) return { rejected: 'expired' }
    const user = found!.user
    if (!user) return { rejected: 'unknown_user' }
    const principal: Principal = { id: user.id, tier: user.tier, email: user.email, authSessionId: session.id }
    this.#resolved.set(principal, {
      at: this.#o.now(),
      epoch: this.#epoch,
      tier: user.tier,
      expiresAt: session.expiresAt,
      mfaVerifiedUntil: session.mfaVerifiedUntil,
    })
    return principal
  }

  /** Whether a session may still be used (open streams are re-checked with this). */
  async isActive(sessionId: string): Promise<boolean> {
    const s = await this.#o.store.get(sessionId)
    return s !== undefined && s.revokedAt === undefined && s.expiresAt > this.#o.now()
  }

  /** Mark this one session MFA-verified for the configured window; returns until when (epoch ms). */
  async markMfaVerified(sessionId: string): Promise<number> {
    const until = this.#o.now() + this.#o.mfaWindowMs
    await this.#o.store.setMfa(sessionId, until)
    this.#epoch++
    return until
  }

  async mfaVerifiedUntil(sessionId: string): Promise<number | undefined> {
    const s = await this.#o.store.get(sessionId)
    const until = s?.mfaVerifiedUntil
    return until !== undefined && until > this.#o.now() ? until : undefined
  }

  async revoke(sessionId: string): Promise<boolean> {
    const done = await this.#o.store.revoke(sessionId, this.#o.now())
    this.#epoch++
    if (done) this.#o.onRevoked([sessionId])
    return done
  }

  async revokeAll(userId: string): Promise<number> {
    const ids = await this.#o.store.revokeUser(userId, this.#o.now())
    this.#epoch++
    if (ids.length) this.#o.onRevoked(ids)
    return ids.length
  }
}
