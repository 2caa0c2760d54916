/**
 * @module auth/email
 * The one place an email address is checked and normalised: what is stored, looked up, rate
 * limited, audited and mailed to is always this normal form. An address the mail system would
 * deliver elsewhere than it reads is refused: NUL, DEL and every other control character (nodemailer
 * strips NUL, so `a\0b@x` reached `ab@x` while the account and its budget were keyed on the NUL
 * form), and invisible or bidirectional format characters, line and paragraph separators and any
 * space (a lookalike of another address).
 */
import { AuthError } from './errors.ts'

/** RFC 5321 caps a path at 254 characters; the local part at 64. ASCII domains only. */
const EMAIL_PATTERN = /^[^\s@"<>(),;:\\[\]]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/
/** Controls (C0, DEL, C1), format characters (zero-width, bidi), and separators and spaces of any kind. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Z}]/u

/** The normal form of an address given as it is: trimmed, NFC, lower-cased. */
export const normaliseEmail = (email: string) => email.trim().normalize('NFC').toLowerCase()

/** Why `value` is no acceptable email address, or undefined when it is one. */
export function emailProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return 'it is not a string'
  const email = normaliseEmail(value)
  if (email.length > 254) return 'it is longer than 254 characters'
  if (INVISIBLE.test(email)) return 'it contains a control, invisible or space character'
  if (!EMAIL_PATTERN.test(email)) return 'it is not of the form name@example.com'
  return undefined
}

/** The normal form of an acceptable address; a 400 naming the field otherwise. */
export function parseEmail(value: unknown): string {
  if (emailProblem(value) !== undefined)
    throw new AuthError(400, 'invalid_request', '"email" must be an email address such as ada@example.com (at most 254 characters, no control, invisible or space characters)')
  return normaliseEmail(value as string)
}
