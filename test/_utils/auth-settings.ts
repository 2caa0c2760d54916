/**
 * Auth settings for tests that build the auth services directly (no server): fixed keys and the
 * defaults' windows, with the rate limits the test chooses.
 */
import type { AuthSettings } from '../../src/auth/auth.ts'
import type { RateLimits } from '../../src/auth/rate-limit.ts'

export function testAuthSettings(rateLimits: RateLimits): AuthSettings {
  return {
    jwtSecret: 's'.repeat(48),
    totpKey: 't'.repeat(48),
    signup: 'invite',
    adminEmails: [],
    sessionTokenTtlMs: 3_600_000,
    loginTokenTtlMs: 600_000,
    mfaWindowMs: 900_000,
    mfaMaxFailures: 5,
    mfaLockMs: 900_000,
    rateLimits,
  }
}
