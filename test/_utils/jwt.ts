/**
 * Hand-made JWTs for attack tests: any header, any payload, signed with any HMAC key (or not at all).
 */
import { createHmac } from 'node:crypto'

const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url')

export function forgeJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key?: string, hash = 'sha256'): string {
  const signingInput = `${b64(header)}.${b64(payload)}`
  const sig = key === undefined ? '' : createHmac(hash, key).update(signingInput).digest('base64url')
  return `${signingInput}.${sig}`
}

export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [h, p] = token.split('.')
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) }
}
