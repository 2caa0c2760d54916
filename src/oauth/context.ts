/**
 * @module oauth/context
 * What the authorization server's routes share: the auth services (users, sign-in, TOTP, the
 * sessions grants stand on, audit, rate limits), its own stores, the client registry, the
 * resources it issues tokens for, and its settings.
 */
import type { Auth } from '../auth/auth.ts'
import type { Limit } from '../auth/rate-limit.ts'
import type { HttpGuard } from '../transports/http-guard.ts'
import type { ClientRegistry } from './clients.ts'
import type { Resources } from '../auth/resources.ts'
import type { OAuthStores } from './stores.ts'

export interface GithubSettings {
  clientId: string
  clientSecret: string
  /** https://github.com (tests: a fake on loopback). */
  oauthUrl: string
  /** https://api.github.com */
  apiUrl: string
}

export interface OAuthSettings {
  /** Access-token lifetime; long enough for clients that refresh a minute early (≥ 15 min). */
  accessTokenTtlMs: number
  /** A grant's absolute lifetime: refresh tokens never outlive it. */
  grantTtlMs: number
  /** Private-use redirect schemes accepted at registration (e.g. `cursor`). */
  redirectSchemes: string[]
  /** Registrations per client address. */
  registerPerAddress: Limit
  github?: GithubSettings
}

export interface OAuthContext {
  auth: Auth
  stores: OAuthStores
  clients: ClientRegistry
  resources: Resources
  guard: HttpGuard
  settings: OAuthSettings
  now: () => number
}

/** Authorization codes live 60 s at most (OAuth 2.1 recommends a short life; clients redeem at once). */
export const CODE_TTL_MS = 60_000
/** A parked authorization request (sign-in and consent) lasts 10 minutes. */
export const PENDING_TTL_MS = 600_000
/** A browser stays signed in to the authorization server for 12 hours. */
export const BROWSER_LOGIN_TTL_MS = 12 * 3_600_000
/** Remembered consent lasts 90 days. */
export const CONSENT_TTL_MS = 90 * 86_400_000
/** Registered clients unused for 90 days are forgotten. */
export const CLIENT_IDLE_TTL_MS = 90 * 86_400_000
