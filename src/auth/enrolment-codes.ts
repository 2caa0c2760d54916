/**
 * @module auth/enrolment-codes
 * The first authenticator of an account is enrolled only after the account proves, again, that it
 * controls its mailbox: a bearer token alone (leaked, or spent by a link checker) must not be
 * enough to bind an authenticator and, for an admin, open admin tools. `send` emails a single-use
 * code (32 random bytes behind `enr_`, stored as a SHA-256 only, in its own table) bound to the
 * user and to the auth session that asked; `redeem` spends it for that same session only.
 * Replacing a confirmed authenticator needs a verification with it instead (auth-routes.ts).
 */
import { enrolmentMail, type Mailer } from '../mail/mailer.ts'
import { OneTimeTokens } from './one-time-tokens.ts'
import type { OneTimeTokenTable } from './stores.ts'

/** The exact shape of a code this server issues; anything else is refused before a lookup. */
export const ENROLMENT_CODE_PATTERN = /^enr_[A-Za-z0-9_-]{43}$/

export class EnrolmentCodes {
  readonly #codes: OneTimeTokens
  readonly #mailer: Mailer

  /** `table` is the enrolment codes' own: a code never signs anyone in or opens a socket. */
  constructor(table: OneTimeTokenTable, ttlMs: number, now: () => number, mailer: Mailer) {
    this.#codes = new OneTimeTokens({ table, prefix: 'enr_', pattern: ENROLMENT_CODE_PATTERN, ttlMs, now })
    this.#mailer = mailer
  }

  get ttlMs(): number {
    return this.#codes.ttlMs
  }

  /** Email a code for this user's auth session to the user's address. */
  async send(to: { userId: string; email: string; authSessionId: string }): Promise<void> {
    const { token } = await this.#codes.issue(bound(to.userId, to.authSessionId))
    await this.#mailer.send(enrolmentMail({ to: to.email, code: token, ttlMinutes: Math.round(this.ttlMs / 60_000) }))
  }

  /** Spend a code: true only for an unused, unexpired code issued to this very auth session. */
  async redeem(code: unknown, by: { userId: string; authSessionId: string }): Promise<boolean> {
    return (await this.#codes.consume(code)) === bound(by.userId, by.authSessionId)
  }
}

const bound = (userId: string, authSessionId: string) => `${userId} ${authSessionId}`
