/**
 * @module core/request-state
 * The `requestState` of 2026-07-28 multi-round-trip requests, sealed with AES-256-GCM under a key
 * derived from the server secret: any instance sharing the secret can continue a request another
 * instance began, the client can neither read (elicited answers stay private) nor alter it, and a
 * state is bound to the caller, the request and a deadline (the spec's replay rules for MRTR).
 */
import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto'

const VERSION = 'rs1'
/** Binds the ciphertext to its purpose: a box sealed for anything else does not open as a state. */
const AAD = Buffer.from('mcprag/request-state/v1')
const IV_BYTES = 12
const TAG_BYTES = 16
const BASE64URL = /^[A-Za-z0-9_-]+$/

/** What a state carries. Short keys: the client sends it back on every round. */
export interface RequestStatePayload {
  /** The principal the state was issued to. */
  p: string
  /** The method and target (tool or prompt name, resource URI) of the originating request. */
  m: string
  t: string
  /** A digest of the request's salient parameters (its arguments). */
  d: string
  /** Deadline, epoch milliseconds. */
  exp: number
  /** The client's answers so far, by input-request key. */
  a: Record<string, unknown>
}

export class RequestStateSealer {
  readonly #key: Buffer

  /** `secret` is the server secret (MCPRAG_SECRET); the key is derived from it, never used raw. */
  constructor(secret: string) {
    this.#key = Buffer.from(hkdfSync('sha256', secret, 'mcprag', 'request-state', 32))
  }

  seal(payload: RequestStatePayload): string {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(AAD)
    const body = Buffer.concat([cipher.update(JSON.stringify(payload), 'utf8'), cipher.final(), cipher.getAuthTag()])
    return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`
  }

  /** The payload, or undefined when the state is malformed, altered, or sealed under another secret. */
  open(state: string): RequestStatePayload | undefined {
    const parts = state.split('.')
    const [version, iv, body] = parts
    if (parts.length !== 3 || version !== VERSION || !iv || !body || !BASE64URL.test(iv) || !BASE64URL.test(body)) return undefined
    const ivBytes = Buffer.from(iv, 'base64url')
    const sealed = Buffer.from(body, 'base64url')
    // Base64url that does not round-trip is not what seal() wrote (trailing bits appended to a state).
    if (ivBytes.length !== IV_BYTES || sealed.length <= TAG_BYTES || sealed.toString('base64url') !== body) return undefined
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, ivBytes)
      decipher.setAAD(AAD)
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG_BYTES))
      const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - TAG_BYTES)), decipher.final()]).toString('utf8')
      const payload = JSON.parse(plain) as RequestStatePayload
      return typeof payload === 'object' && payload !== null && typeof payload.exp === 'number' ? payload : undefined
    } catch {
      return undefined
    }
  }
}

/** JSON with object keys sorted, so equal values digest alike however a client orders its keys. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

/** The digest a state binds: a retry must carry the same arguments as the request it continues. */
export function digestOf(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('base64url')
}
