/**
 * @module auth/auth
 * Wires the auth services together from the implementations the composition root picked (stores,
 * mailer) and the configuration. The HTTP routes and transports receive the resulting `Auth`.
 */
import type { Mailer } from '../mail/mailer.ts'
import { Resources } from './resources.ts'
import type { AuditLog } from './audit.ts'
import { BearerAuth } from './bearer.ts'
import { EnrolmentCodes } from './enrolment-codes.ts'
import { SessionTokens } from './jwt.ts'
import { LoginFlow } from './login.ts'
import { LoginTokens } from './magic-link.ts'
import type { RequestBudget } from '../transports/transport-deps.ts'
import { MemoryCounters, REQUESTS_BUCKET, RateLimiter, type Counters, type RateLimits } from './rate-limit.ts'
import { SecretBox } from './secret-box.ts'
import { AuthSessions } from './sessions.ts'
import type { AuthStores } from './stores.ts'
import { TierPolicy } from './tier-policy.ts'
import { TotpService } from './totp.ts'
import { WS_TICKET_TTL_MS, WsTickets } from './ws-ticket.ts'

/** The configuration the auth services read (a slice of `Config`). */
export interface AuthSettings {
  jwtSecret: string
  totpKey: string
  signup: 'open' | 'invite'
  adminEmails: string[]
  sessionTokenTtlMs: number
  loginTokenTtlMs: number
  mfaWindowMs: number
  mfaMaxFailures: number
  mfaLockMs: number
  rateLimits: RateLimits
}

export interface AuthDeps {
  settings: AuthSettings
  stores: AuthStores
  /**
   * Where the per-request and per-tool-call budgets count: they run on every request, so never a
   * store round trip each (default: this process's memory; with Redis, local counts flushed to it).
   */
  requestCounters?: Counters
  mailer: Mailer
  audit: AuditLog
  /** The server's public base URL (no trailing slash); resolved on use. */
  publicUrl: () => string
  /** The protected resources (the server and each MCP endpoint): token audiences and challenge targets; default the server alone. */
  resources?: Resources
  addressOf: (request: Request) => string
  /** Announce revoked sessions (the bus), so transports close their open streams. */
  publishRevoked: (sessionIds: string[]) => void
  now?: () => number
}

export interface Auth {
  stores: AuthStores
  audit: AuditLog
  sessions: AuthSessions
  login: LoginFlow
  totp: TotpService
  policy: TierPolicy
  bearer: BearerAuth
  /** Single-use WebSocket tickets (POST /auth/ws-ticket, redeemed by the upgrade). */
  tickets: WsTickets
  /** Emailed codes that let an account enrol its first authenticator. */
  enrolmentCodes: EnrolmentCodes
  /** The sign-in budgets (`/auth/*` per address, emails per address), counted in the store. */
  limiter: RateLimiter
  /**
   * Ask for a sign-in email within its budgets: seconds to wait when this requester has asked too
   * often for this address; otherwise undefined, and the email goes out unless the mailbox has had
   * its share (then nothing is sent and the answer is the same: no mail bombing, no oracle).
   */
  requestSignIn(email: string, clientAddress: string, linkTo?: (token: string) => string): Promise<number | undefined>
  /**
   * Spend more of a client address's request budget than the one request authentication spends
   * (each message of a batch, each WebSocket message): seconds to wait, or undefined.
   */
  requestBudget: RequestBudget
  limits: RateLimits
  publicUrl: () => string
  resources: Resources
  /** Where a request's 401 challenge points: the metadata document of the endpoint it asked (RFC 9728 §5.1). */
  resourceMetadataFor: (request: Request) => string
  addressOf: (request: Request) => string
}

/**
 * Build the token service alone (the operator CLI mints tokens without a running server). Tokens
 * are signed for the whole server; `accepted` adds the audiences of OAuth access tokens.
 */
export function sessionTokens(secret: string, publicUrl: () => string, accepted?: () => string[]): SessionTokens {
  return new SessionTokens({ secret, issuer: publicUrl, audience: publicUrl, acceptedAudiences: accepted })
}

export function createAuth(d: AuthDeps): Auth {
  const now = d.now ?? Date.now
  const s = d.settings
  const resources = d.resources ?? new Resources({ issuer: d.publicUrl, endpoints: [] })
  // Sign-in budgets are rare and guard email flooding: counted in the store (shared, durable).
  const limiter = new RateLimiter(d.stores.counters, now)
  // Per-request and per-tool-call budgets run on every request: counted without a round trip.
  const requestLimiter = new RateLimiter(d.requestCounters ?? new MemoryCounters(), now)
  const sessions = new AuthSessions({
    store: d.stores.authSessions,
    tokens: sessionTokens(s.jwtSecret, d.publicUrl, () => resources.all()),
    now,
    ttlMs: s.sessionTokenTtlMs,
    mfaWindowMs: s.mfaWindowMs,
    onRevoked: d.publishRevoked,
  })
  const login = new LoginFlow({
    users: d.stores.users,
    links: new LoginTokens(d.stores.oneTimeTokens('login'), s.loginTokenTtlMs, now),
    sessions,
    mailer: d.mailer,
    audit: d.audit,
    signup: s.signup,
    adminEmails: s.adminEmails,
    callbackUrl: () => `${d.publicUrl()}/auth/sign-in`,
    now,
  })
  const tickets = new WsTickets(d.stores.oneTimeTokens('ws_ticket'), WS_TICKET_TTL_MS, now)
  const enrolmentCodes = new EnrolmentCodes(d.stores.oneTimeTokens('totp_enrolment'), s.loginTokenTtlMs, now, d.mailer)
  const totp = new TotpService(d.stores.totp, new SecretBox(s.totpKey), { issuer: 'mcprag', maxFailures: s.mfaMaxFailures, lockMs: s.mfaLockMs, now })
  return {
    stores: d.stores,
    audit: d.audit,
    sessions,
    login,
    totp,
    policy: new TierPolicy({
      store: d.stores.authSessions,
      limiter: requestLimiter,
      limits: s.rateLimits,
      now,
      recent: (p) => sessions.recentState(p),
      auditWritable: () => d.audit.writable(),
      metadataUrlFor: (resource) => resources.metadataUrl(resource),
    }),
    bearer: new BearerAuth({ sessions, limiter: requestLimiter, requestsPerAddress: s.rateLimits.requestsPerAddress, audit: d.audit, addressOf: d.addressOf, tickets }),
    tickets,
    enrolmentCodes,
    limiter,
    async requestSignIn(email, clientAddress, linkTo) {
      // Per requester and email: a third party exhausts its own budget, never the user's.
      const retryAfterS = await limiter.take('login', `${clientAddress} ${email}`, s.rateLimits.loginPerEmail)
      if (retryAfterS !== undefined) return retryAfterS
      const mailboxFull = (await limiter.take('mailbox', email, s.rateLimits.loginPerMailbox)) !== undefined
      await login.request(email, clientAddress, { send: !mailboxFull, linkTo })
      return undefined
    },
    requestBudget: (address, count) => requestLimiter.take(REQUESTS_BUCKET, address, s.rateLimits.requestsPerAddress, count),
    limits: s.rateLimits,
    publicUrl: d.publicUrl,
    resources,
    resourceMetadataFor: (request) => resources.metadataUrlForPath(new URL(request.url).pathname),
    addressOf: d.addressOf,
  }
}
