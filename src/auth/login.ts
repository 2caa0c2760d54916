/**
 * @module auth/login
 * Magic-link sign-in. `request` answers the same way whether or not the address may sign in (no
 * user enumeration) and sends the email in the background (no timing difference). `complete`
 * consumes the token once and opens a session. Who may sign in: existing users; with
 * `MCPRAG_SIGNUP=open` anyone (new users get tier `public`); addresses in `MCPRAG_ADMIN_EMAILS`
 * always (created as `admin` the first time).
 */
import { loginMail, type Mailer } from '../mail/mailer.ts'
import type { AuditLog } from './audit.ts'
import { AuthError } from './errors.ts'
import type { LoginTokens } from './magic-link.ts'
import type { AuthSessions } from './sessions.ts'
import type { User, UserStore } from './stores.ts'

/** Addresses are checked and normalised in one place (auth/email.ts); re-exported for its callers. */
export { normaliseEmail, parseEmail } from './email.ts'

export interface LoginFlowOptions {
  users: UserStore
  links: LoginTokens
  sessions: AuthSessions
  mailer: Mailer
  audit: AuditLog
  signup: 'open' | 'invite'
  adminEmails: string[]
  /** The confirmation-page URL the email links to (built from the configured public URL, never from Host). */
  callbackUrl: () => string
  now: () => number
}

export interface CompletedLogin {
  token: string
  email: string
  tier: string
  user_id: string
  /** Epoch seconds, like the token's `exp`. */
  expires_at: number
}

export class LoginFlow {
  readonly #o: LoginFlowOptions
  /** Emails in flight, so tests and shutdown can wait for them. */
  readonly #sending = new Set<Promise<void>>()

  constructor(opts: LoginFlowOptions) {
    this.#o = opts
  }

  /**
   * Send a sign-in email if the address may sign in (and `send` is not false: the mailbox had its
   * share). Resolves before the email is sent. `linkTo` is where the emailed link points (a page
   * that never consumes the token on GET); default the confirmation page of `GET /auth/callback`.
   */
  async request(email: string, clientAddress: string, opts: { send?: boolean; linkTo?: (token: string) => string } = {}): Promise<void> {
    const { users, adminEmails, signup } = this.#o
    const user = await users.getByEmail(email)
    const allowed = user !== undefined || signup === 'open' || adminEmails.includes(email)
    const send = allowed && opts.send !== false
    const outcome = send ? 'sent' : allowed ? 'suppressed' : 'ignored'
    this.#o.audit.record({ kind: 'login_requested', outcome, userId: user?.id, email, clientAddress, detail: outcome === 'suppressed' ? 'the mailbox had its share of sign-in emails (MCPRAG_RATE_LOGIN_MAILBOX)' : undefined })
    if (!send) return
    const token = await this.#o.links.issue(email)
    const url = new URL(opts.linkTo ? opts.linkTo(token) : this.#o.callbackUrl())
    if (!opts.linkTo) url.searchParams.set('token', token)
    const message = loginMail({ to: email, link: url.toString(), token, ttlMinutes: Math.round(this.#o.links.ttlMs / 60_000) })
    const sending = this.#o.mailer.send(message).catch((err) => {
      console.error(`[auth] could not send the sign-in email to ${email}:`, err instanceof Error ? err.message : err)
      this.#o.audit.record({ kind: 'login_mail_failed', outcome: 'failed', email, detail: err instanceof Error ? err.message : String(err) })
    })
    this.#sending.add(sending)
    void sending.finally(() => this.#sending.delete(sending))
  }

  /** Consume a login token and open a session. Any failure is one 401 (`invalid_token`). */
  async complete(token: unknown, clientAddress: string): Promise<CompletedLogin> {
    const user = await this.redeem(token, clientAddress)
    const session = await this.#o.sessions.start(user)
    return { token: session.token, email: user.email, tier: user.tier, user_id: user.id, expires_at: Math.floor(session.expiresAt / 1000) }
  }

  /**
   * Consume a login token and return its user, without opening a session (the authorization
   * server signs the browser in instead). Any failure is one 401 (`invalid_token`).
   */
  async redeem(token: unknown, clientAddress: string, via = 'email'): Promise<User> {
    const email = await this.#o.links.consume(token)
    const invalid = (detail: string) => {
      // Anyone can send tokens: repeats from one address are counted, not written one by one.
      this.#o.audit.refusal({ kind: 'login_failed', outcome: 'denied', email, detail, clientAddress })
      return new AuthError(401, 'invalid_token', 'The sign-in token is invalid, expired or already used: request a new one with POST /auth/login', { detail })
    }
    if (!email) throw invalid('unknown, expired or used token')
    const user = await this.#userFor(email)
    if (!user) throw invalid('the address may no longer sign in')
    this.#o.audit.record({ kind: 'login_completed', outcome: 'ok', userId: user.id, email, tier: user.tier, detail: via === 'email' ? undefined : via, clientAddress })
    return user
  }

  /** The user for an address that may sign in (created on a first sign-in when allowed), else undefined. */
  userFor(email: string): Promise<User | undefined> {
    return this.#userFor(email)
  }

  /** Wait for emails being sent (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.#sending])
  }

  async #userFor(email: string): Promise<User | undefined> {
    const { users, adminEmails, signup, now } = this.#o
    const existing = await users.getByEmail(email)
    if (existing) return existing
    const tier = adminEmails.includes(email) ? 'admin' : signup === 'open' ? 'public' : undefined
    if (!tier) return undefined
    try {
      return await users.create({ email, tier, now: now() })
    } catch {
      // Two first sign-ins raced: the other one created the user.
      return users.getByEmail(email)
    }
  }
}
