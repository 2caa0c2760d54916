/**
 * @module auth/secret-box
 * AES-256-GCM for secrets kept at rest (TOTP seeds). The key is SHA-256 of the configured
 * `MCPRAG_TOTP_KEY`; each box binds a context string (the user id) as associated data, so a box
 * copied onto another user's row does not open.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

const VERSION = 'v1'

export class SecretBox {
  readonly #key: Buffer

  constructor(keyMaterial: string) {
    this.#key = createHash('sha256').update(keyMaterial).digest()
  }

  seal(plain: string, context: string): string {
    const iv = randomBytes(12)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(context))
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
    return [VERSION, iv.toString('base64url'), body.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.')
  }

  /** The plain text, or undefined when the box is malformed, tampered with, or sealed for another context or key. */
  open(box: string, context: string): string | undefined {
    const [version, iv, body, tag] = box.split('.')
    if (version !== VERSION || !iv || body === undefined || !tag) return undefined
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'))
      decipher.setAAD(Buffer.from(context))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8')
    } catch {
      return undefined
    }
  }
}
