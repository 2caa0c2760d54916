/**
 * @module oauth/pkce
 * PKCE with S256 only (RFC 7636; OAuth 2.1 and MCP forbid `plain`). Verifier and challenge are
 * both 43–128 characters of the unreserved set; the comparison is constant-time.
 */
import { createHash, timingSafeEqual } from 'node:crypto'

/** RFC 7636 §4.1 (verifier) and, for S256, the base64url of a SHA-256 (exactly 43 characters). */
export const PKCE_VALUE = /^[A-Za-z0-9\-._~]{43,128}$/

export const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url')

export function verifierMatches(verifier: unknown, challenge: string): boolean {
  if (typeof verifier !== 'string' || !PKCE_VALUE.test(verifier)) return false
  const a = Buffer.from(s256(verifier))
  const b = Buffer.from(challenge)
  return a.length === b.length && timingSafeEqual(a, b)
}
