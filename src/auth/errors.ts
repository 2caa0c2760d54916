/**
 * @module auth/errors
 * `AuthError`: a refusal of the auth layer with its HTTP status and a stable wire code. `message`
 * is for the client (what to do next); `detail` is for the audit log only (why, precisely).
 */
export type AuthErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'invalid_code'
  | 'not_enrolled'
  | 'already_enrolled'
  | 'forbidden'
  | 'mfa_required'
  | 'mfa_locked'
  | 'rate_limited'

export class AuthError extends Error {
  constructor(
    readonly status: 400 | 401 | 403 | 409 | 429,
    readonly code: AuthErrorCode,
    message: string,
    readonly opts: { retryAfterS?: number; detail?: string; tokenPresented?: boolean } = {},
  ) {
    super(message)
    this.name = 'AuthError'
  }
}

export const tooManyRequests = (retryAfterS: number, what: string) =>
  new AuthError(429, 'rate_limited', `Too many ${what}: try again in ${retryAfterS} s`, { retryAfterS, detail: what })
