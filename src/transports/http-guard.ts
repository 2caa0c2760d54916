/**
 * @module transports/http-guard
 * Checks every HTTP transport runs before touching a message: Origin and Host allowlists
 * (DNS-rebinding protection), CORS for allowed browser origins, media types, and a body limit.
 * Rejections are JSON-RPC error bodies with the HTTP status the spec and SDK clients expect.
 */
import { ErrorCode } from '../core/errors.ts'

export interface GuardOptions {
  allowedHosts: string[]
  allowedOrigins: string[]
}

/** A JSON-RPC error as an HTTP response. `id` is null: these answer no particular request. */
export function rpcErrorResponse(status: number, code: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
}

function hostnameOf(hostHeader: string): string {
  const h = hostHeader.trim().toLowerCase()
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1)
  const colon = h.indexOf(':')
  return colon === -1 ? h : h.slice(0, colon)
}

function originAllowed(origin: string, patterns: string[]): boolean {
  let url: URL
  try {
    url = new URL(origin)
  } catch {
    return false
  }
  // A browser sends the literal "null" for opaque origins (sandboxed frames, file://): never trusted.
  if (url.origin === 'null') return false
  for (const p of patterns) {
    if (p === '*') return true
    if (p.endsWith(':*')) {
      // `scheme://host:*` matches that scheme and host on any port.
      const sep = p.indexOf('://')
      if (url.protocol === `${p.slice(0, sep)}:` && url.hostname === p.slice(sep + 3, -2).toLowerCase()) return true
    } else if (url.origin === p) return true
  }
  return false
}

export class HttpGuard {
  readonly #opts: GuardOptions
  readonly #anyHost: boolean
  readonly #origins: string[]

  constructor(opts: GuardOptions) {
    this.#opts = opts
    this.#anyHost = opts.allowedHosts.includes('*')
    this.#origins = [...opts.allowedOrigins]
  }

  /**
   * Also accept this exact origin. The server's own pages (/docs) fetch from it, and with PORT=0
   * it is known only once the server listens; nothing else is ever added.
   */
  allowOrigin(origin: string): void {
    const exact = new URL(origin).origin
    if (!this.#origins.includes(exact)) this.#origins.push(exact)
  }

  /** 403 when Host or Origin is not allowed; undefined when the request may proceed. */
  check(request: Request): Response | undefined {
    if (!this.#anyHost) {
      const host = request.headers.get('host')
      if (!host || !this.#opts.allowedHosts.includes(hostnameOf(host)))
        return rpcErrorResponse(403, ErrorCode.ConnectionClosed, `Forbidden: Host "${host ?? ''}" is not allowed (MCPRAG_ALLOWED_HOSTS)`)
    }
    const origin = request.headers.get('origin')
    if (origin !== null && !originAllowed(origin, this.#origins))
      return rpcErrorResponse(403, ErrorCode.ConnectionClosed, `Forbidden: Origin "${origin}" is not allowed (MCPRAG_ALLOWED_ORIGINS)`)
    return undefined
  }

  /** CORS headers for an allowed browser origin (none for non-browser clients). */
  cors(request: Request): Record<string, string> {
    const origin = request.headers.get('origin')
    if (origin === null || !originAllowed(origin, this.#origins)) return {}
    return {
      'access-control-allow-origin': origin,
      'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate',
      vary: 'Origin',
    }
  }

  /** Answer a CORS preflight. */
  preflight(request: Request, methods: string): Response {
    const denied = this.check(request)
    if (denied) return denied
    return new Response(null, {
      status: 204,
      headers: {
        ...this.cors(request),
        'access-control-allow-methods': methods,
        'access-control-allow-headers':
          'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name',
        'access-control-max-age': '600',
      },
    })
  }
}

/** The media types listed in an Accept header, lower-cased, without parameters. */
export function acceptedTypes(request: Request): string[] {
  const accept = request.headers.get('accept') ?? ''
  return accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase())
}

export function acceptsAll(request: Request, types: string[]): boolean {
  const listed = acceptedTypes(request)
  if (listed.includes('*/*')) return true
  return types.every((t) => listed.includes(t) || listed.includes(`${t.split('/')[0]}/*`))
}

export function isJsonContentType(request: Request): boolean {
  const ct = request.headers.get('content-type')
  if (!ct) return false
  return ct.split(';')[0]!.trim().toLowerCase() === 'application/json'
}

/**
 * Read the body as text, refusing more than `limit` bytes without buffering them: a declared
 * length is checked up front, an undeclared one while streaming.
 */
export async function readBody(request: Request, limit: number): Promise<{ text: string } | { tooLarge: true }> {
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    if (Number(declared) > limit) return { tooLarge: true }
    const text = await request.text()
    return Buffer.byteLength(text) > limit ? { tooLarge: true } : { text }
  }
  if (!request.body) return { text: '' }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      await reader.cancel().catch(() => {})
      return { tooLarge: true }
    }
    chunks.push(value)
  }
  return { text: Buffer.concat(chunks).toString('utf8') }
}
