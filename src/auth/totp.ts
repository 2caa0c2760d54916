/**
 * @module auth/totp
 * TOTP second factor (RFC 6238 via `otpauth`: SHA-1, 6 digits, 30 s). Policy, all server-side:
 * - input must be exactly six ASCII digits (otpauth throws on some non-ASCII input; security.md §0);
 * - the current step and one step back are accepted, never a future step (RFC 6238 §5.2);
 * - a code's step must be newer than the last accepted one (no replay, atomic in the store);
 * - `maxFailures` wrong codes in a row lock verification for `lockMs` (login itself stays open);
 * - the seed is 20 random bytes, stored only inside a `SecretBox` bound to the user id;
 * - an enrolment is pending until a first code confirms it, on the auth session that started it;
 *   the confirmed authenticator stays the only one that verifies until then, and starting an
 *   enrolment resets no failure count or lock (a stolen session cannot use a re-enrolment the
 *   owner left pending to slip in its own authenticator).
 */
import { Secret, TOTP } from 'otpauth'
import type { TotpState, TotpStore } from './stores.ts'
import { AuthError } from './errors.ts'
import type { SecretBox } from './secret-box.ts'

export const TOTP_DIGITS = 6
export const TOTP_PERIOD_S = 30
const CODE_PATTERN = /^[0-9]{6}$/

export interface TotpOptions {
  issuer: string
  maxFailures: number
  lockMs: number
  now: () => number
}

/** Why a code was refused, for the audit log (the client sees one message for all of them). */
export type TotpRejection = 'wrong_code' | 'future_step' | 'replayed'

export function totpFor(base32Secret: string, label?: string, issuer?: string): TOTP {
  return new TOTP({ issuer, label, secret: Secret.fromBase32(base32Secret), algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD_S })
}

/**
 * The step a code belongs to, if it is the current step or the one before; otherwise why not.
 * Pure: the replay check against the stored last step happens in the store.
 */
export function matchStep(totp: TOTP, code: string, nowMs: number): { step: number } | { rejected: Exclude<TotpRejection, 'replayed'> } {
  const delta = totp.validate({ token: code, timestamp: nowMs, window: 1 })
  // `validate` returns 0 for the current step: compare with null, never by truthiness.
  if (delta === null) return { rejected: 'wrong_code' }
  if (delta > 0) return { rejected: 'future_step' }
  return { step: totp.counter({ timestamp: nowMs }) + delta }
}

export class TotpService {
  readonly #store: TotpStore
  readonly #box: SecretBox
  readonly #opts: TotpOptions

  constructor(store: TotpStore, box: SecretBox, opts: TotpOptions) {
    this.#store = store
    this.#box = box
    this.#opts = opts
  }

  /** Whether the user has a confirmed authenticator (a pending enrolment is none). */
  async isEnrolled(userId: string): Promise<boolean> {
    return (await this.#store.get(userId))?.secretBox !== undefined
  }

  /**
   * Start an enrolment with a fresh secret, for `authSessionId` alone to confirm; returns the
   * otpauth:// URI (show once, it holds the secret). A confirmed authenticator stays in force.
   */
  async enrol(user: { id: string; email: string }, authSessionId: string): Promise<{ uri: string; secret: string }> {
    const secret = new Secret({ size: 20 }).base32
    await this.#store.startEnrolment(user.id, this.#box.seal(secret, user.id), authSessionId)
    return { uri: totpFor(secret, user.email, this.#opts.issuer).toString(), secret }
  }

  /** Confirm this auth session's pending enrolment with a first code of the new authenticator. */
  async confirm(userId: string, authSessionId: string, code: unknown): Promise<void> {
    const state = await this.#store.get(userId)
    const pending = state?.pending
    if (!state || !pending || pending.authSessionId !== authSessionId)
      throw new AuthError(400, 'not_enrolled', 'No enrolment is pending on this session: POST /auth/totp/enroll first, then confirm with the same token')
    const step = await this.#check(state, pending.secretBox, code, async () => true)
    if (!(await this.#store.confirmEnrolment(userId, authSessionId, step)))
      throw new AuthError(409, 'already_enrolled', 'This enrolment was confirmed or replaced meanwhile: use POST /auth/verify-mfa, or enrol again')
  }

  /** Verify a code of the confirmed authenticator. Throws `AuthError` (400/401/429) when refused. */
  async verify(userId: string, code: unknown): Promise<void> {
    const state = await this.#store.get(userId)
    if (state?.secretBox === undefined)
      throw new AuthError(400, 'not_enrolled', 'No authenticator is enrolled for this user: POST /auth/totp/enroll, then /auth/totp/confirm')
    await this.#check(state, state.secretBox, code, (step) => this.#store.claimStep(userId, step))
  }

  /**
   * Check `code` against the secret in `secretBox`, honouring and counting towards the lock;
   * `claim` records an accepted step (false: a replay). Returns the code's step.
   */
  async #check(state: TotpState, secretBox: string, code: unknown, claim: (step: number) => Promise<boolean>): Promise<number> {
    if (typeof code !== 'string' || !CODE_PATTERN.test(code))
      throw new AuthError(400, 'invalid_request', '"totp_code" must be a string of exactly 6 digits (0-9)')
    const now = this.#opts.now()
    if (state.lockedUntil !== undefined && state.lockedUntil > now) throw this.#locked(state.lockedUntil, now)
    const secret = this.#box.open(secretBox, state.userId)
    if (secret === undefined) throw new Error(`TOTP secret of user ${state.userId} does not open: was MCPRAG_TOTP_KEY changed?`)
    const match = matchStep(totpFor(secret), code, now)
    let rejection: TotpRejection | undefined = 'rejected' in match ? match.rejected : undefined
    if ('step' in match && !(await claim(match.step))) rejection = 'replayed'
    if (rejection === undefined && 'step' in match) {
      if (state.failures > 0) await this.#store.resetFailures(state.userId)
      return match.step
    }
    const { failures, lockedUntil } = await this.#store.recordFailure(state.userId, now, this.#opts.maxFailures, this.#opts.lockMs)
    if (lockedUntil !== undefined) throw this.#locked(lockedUntil, now, rejection)
    const left = this.#opts.maxFailures - failures
    throw new AuthError(401, 'invalid_code', `The code is wrong or was already used: enter the next code from your authenticator (${left} attempt${left === 1 ? '' : 's'} left before a lock)`, {
      detail: rejection,
    })
  }

  #locked(until: number, now: number, detail = 'locked'): AuthError {
    const retryAfterS = Math.max(1, Math.ceil((until - now) / 1000))
    return new AuthError(429, 'mfa_locked', `Too many wrong codes: MFA verification is locked for ${retryAfterS} s (signing in still works)`, {
      retryAfterS,
      detail,
    })
  }
}
