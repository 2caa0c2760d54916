/**
 * @module oauth/browser-session
 * The one cookie of the authorization server: a random handle that identifies a browser. Parked
 * authorization requests are bound to it (only the browser that started one can continue it), and
 * a signed-in browser's record (`BrowserLogin`) is stored under its hash. It is HttpOnly and
 * SameSite=Lax, and on an https issuer `__Host-` and Secure (the prefix needs Secure, which a
 * plain-http loopback development server cannot set). It is replaced at sign-in, so a handle
 * planted before sign-in never becomes a signed-in one (session fixation).
 */
import { randomBytes } from 'node:crypto'
import { hashToken } from '../auth/one-time-tokens.ts'

const HANDLE = /^[A-Za-z0-9_-]{43}$/

export class BrowserCookie {
  readonly #secure: () => boolean

  constructor(issuer: () => string) {
    this.#secure = () => issuer().startsWith('https:')
  }

  get name(): string {
    return this.#secure() ? '__Host-mcprag_browser' : 'mcprag_browser'
  }

  /** The browser's handle, if it sent a well-formed one. */
  read(request: Request): string | undefined {
    const header = request.headers.get('cookie')
    if (!header) return undefined
    for (const part of header.split(';')) {
      const eq = part.indexOf('=')
      if (eq > 0 && part.slice(0, eq).trim() === this.name) {
        const value = part.slice(eq + 1).trim()
        return HANDLE.test(value) ? value : undefined
      }
    }
    return undefined
  }

  /** A new handle and its Set-Cookie value. */
  issue(maxAgeS: number): { handle: string; hash: string; setCookie: string } {
    const handle = randomBytes(32).toString('base64url')
    const attrs = [`${this.name}=${handle}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAgeS}`]
    if (this.#secure()) attrs.push('Secure')
    return { handle, hash: hashToken(handle), setCookie: attrs.join('; ') }
  }
}
