/**
 * @module core/cursor
 * Opaque pagination cursors. A cursor is `base64url(json).hmac`, so a client can neither read
 * meaning into it nor forge one: a tampered or foreign cursor is `-32602 Invalid cursor`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto'
import { invalidParams } from './errors.ts'

export interface Page<T> {
  items: T[]
  nextCursor?: string
}

export class Paginator {
  readonly #secret: string
  readonly #pageSize: number

  constructor(secret: string, pageSize: number) {
    this.#secret = secret
    this.#pageSize = pageSize
  }

  /** Slice `all` at the position the cursor encodes. `list` names the list so cursors don't cross. */
  page<T>(list: string, all: readonly T[], cursor: unknown): Page<T> {
    const offset = cursor === undefined ? 0 : this.#decode(list, cursor)
    const items = all.slice(offset, offset + this.#pageSize)
    const next = offset + this.#pageSize
    return next < all.length ? { items, nextCursor: this.#encode(list, next) } : { items }
  }

  #sign(body: string): string {
    return createHmac('sha256', this.#secret).update(body).digest('base64url').slice(0, 22)
  }

  #encode(list: string, offset: number): string {
    const body = Buffer.from(JSON.stringify({ l: list, o: offset })).toString('base64url')
    return `${body}.${this.#sign(body)}`
  }

  #decode(list: string, cursor: unknown): number {
    const bad = () => invalidParams('Invalid cursor: pass back the nextCursor value exactly as received')
    if (typeof cursor !== 'string') throw bad()
    // Exactly two parts: anything appended to a valid cursor is tampering too.
    const parts = cursor.split('.')
    const [body, mac] = parts
    if (parts.length !== 2 || !body || !mac) throw bad()
    const expected = Buffer.from(this.#sign(body))
    const given = Buffer.from(mac)
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw bad()
    try {
      const parsed = JSON.parse(Buffer.from(body, 'base64url').toString()) as { l?: unknown; o?: unknown }
      if (parsed.l !== list || typeof parsed.o !== 'number' || !Number.isInteger(parsed.o) || parsed.o < 0) throw bad()
      return parsed.o
    } catch {
      throw bad()
    }
  }
}
