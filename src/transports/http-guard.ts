/**
 * @module transports/http-guard
 * Checks every HTTP transport runs before touching a message: Origin and Host allowlists
 * (DNS-rebinding protection), CORS for allowed browser origins, media types, and a body limit.
 * Rejections are JSON-RPC error bodies with the HTTP status the spec and SDK clients expect.
 */
import { ErrorCode, clip } from '../core/errors.ts'
import { SUPPORTED_PROTOCOL_VERSIONS, isSupportedVersion } from '../core/versions.ts'
import { rpcError as rpcErrorResponse } from '../lib/respond.ts'
import { parseLimitedJson, type JsonLimits } from './json-limits.ts'

export interface GuardOptions {
  allowedHosts: string[]
  allowedOrigins: string[]
  /** Told of every refusal (audit, aggregated per address: DNS-rebinding probes repeat). Must not throw. */
  refused?: (request: Request, kind: 'host_denied' | 'origin_denied', detail: string) => void
}

/** A JSON-RPC error as an HTTP response (built where every JSON answer is: lib/respond.ts). */
export { rpcError as rpcErrorResponse } from '../lib/respond.ts'

/**
 * `host[:port]` as RFC 9110 allows it: a bracketed IPv6 literal or dot-separated labels
 * (underscores tolerated, as container names have them), then an optional port.
 */
const HOST_HEADER = /^(\[[0-9a-f:.]+\]|[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*\.?)(?::([0-9]{1,5}))?$/

/** The host name of a Host header, or undefined when the header is not a valid `host[:port]`. */
function hostnameOf(hostHeader: string): string | undefined {
  const m = HOST_HEADER.exec(hostHeader.trim().toLowerCase())
  if (!m || (m[2] !== undefined && Number(m[2]) > 65_535)) return undefined
  return m[1]
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

/** Verdicts are cached per header value; a client cannot grow the cache past this. */
const VERDICT_CACHE_MAX = 256
/** The CORS headers of a non-browser request: none. One shared object, compared by identity. */
export const NO_HEADERS: Readonly<Record<string, string>> = Object.freeze({})

/** A bounded memo of header value → verdict, dropped whole when full (values repeat, so it refills at once). */
class VerdictCache {
  readonly #map = new Map<string, boolean>()
  get(key: string, compute: (key: string) => boolean): boolean {
    const hit = this.#map.get(key)
    if (hit !== undefined) return hit
    const verdict = compute(key)
    if (this.#map.size >= VERDICT_CACHE_MAX) this.#map.clear()
    this.#map.set(key, verdict)
    return verdict
  }
  clear(): void {
    this.#map.clear()
  }
}

export class HttpGuard {
  readonly #opts: GuardOptions
  readonly #anyHost: boolean
  readonly #origins: string[]
  readonly #hostVerdicts = new VerdictCache()
  readonly #originVerdicts = new VerdictCache()

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
    this.#originVerdicts.clear()
  }

  /**
   * The one call a hot path makes: the 403 to send, or the CORS headers to answer with (a shared
   * empty object for non-browser clients, so nothing is allocated for them).
   */
  admit(request: Request): Response | Readonly<Record<string, string>> {
    const headers = request.headers
    if (!this.#anyHost) {
      const host = headers.get('host')
      if (host === null || !this.#hostVerdicts.get(host, (h) => this.#allowedHost(hostnameOf(h)))) {
        this.#opts.refused?.(request, 'host_denied', `Host "${clip(host ?? '')}"`)
        return rpcErrorResponse(403, ErrorCode.ConnectionClosed, `Forbidden: Host "${clip(host ?? '')}" is not allowed (MCPRAG_ALLOWED_HOSTS)`)
      }
    }
    const origin = headers.get('origin')
    if (origin === null) return NO_HEADERS
    if (!this.#originAllowed(origin)) {
      this.#opts.refused?.(request, 'origin_denied', `Origin "${clip(origin)}"`)
      return rpcErrorResponse(403, ErrorCode.ConnectionClosed, `Forbidden: Origin "${clip(origin)}" is not allowed (MCPRAG_ALLOWED_ORIGINS)`)
    }
    return corsFor(origin)
  }

  /** 403 when Host or Origin is not allowed; undefined when the request may proceed. */
  check(request: Request): Response | undefined {
    const verdict = this.admit(request)
    return verdict instanceof Response ? verdict : undefined
  }

  /** CORS headers for an allowed browser origin (none for non-browser clients). */
  cors(request: Request): Record<string, string> {
    const origin = request.headers.get('origin')
    if (origin === null || !this.#originAllowed(origin)) return {}
    return corsFor(origin)
  }

  #allowedHost(name: string | undefined): boolean {
    return name !== undefined && this.#opts.allowedHosts.includes(name)
  }

  #originAllowed(origin: string): boolean {
    return this.#originVerdicts.get(origin, (o) => originAllowed(o, this.#origins))
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

/** CORS headers for an origin already allowed (so it parses): granted to its normalised form only. */
function corsFor(origin: string): Record<string, string> {
  return {
    'access-control-allow-origin': new URL(origin).origin,
    'access-control-expose-headers': 'mcp-session-id, mcp-protocol-version, www-authenticate',
    vary: 'Origin',
  }
}

/** The media types listed in an Accept header, lower-cased, without parameters. */
export function acceptedTypes(request: Request): string[] {
  return parseAccept(request.headers.get('accept') ?? '')
}

function parseAccept(accept: string): string[] {
  return accept.split(',').map((part) => part.split(';')[0]!.trim().toLowerCase())
}

function listsAll(listed: string[], types: readonly string[]): boolean {
  if (listed.includes('*/*')) return true
  return types.every((t) => listed.includes(t) || listed.includes(`${t.split('/')[0]}/*`))
}

export function acceptsAll(request: Request, types: string[]): boolean {
  return listsAll(acceptedTypes(request), types)
}

/**
 * `acceptsAll` for one fixed list of types, memoised per Accept value: clients send the same
 * header on every request, so the parse runs once per distinct value.
 */
export function acceptChecker(types: readonly string[]): (request: Request) => boolean {
  const verdicts = new VerdictCache()
  const compute = (accept: string) => listsAll(parseAccept(accept), types)
  return (request) => verdicts.get(request.headers.get('accept') ?? '', compute)
}

export function isJsonContentType(request: Request): boolean {
  const ct = request.headers.get('content-type')
  if (!ct) return false
  // The exact value is what every client sends; parse only when there is more to it.
  if (ct === 'application/json') return true
  return ct.split(';')[0]!.trim().toLowerCase() === 'application/json'
}

/**
 * Read the body as text, refusing more than `limit` bytes without buffering them: a declared
 * length is checked up front, an undeclared one while streaming. Works for a fetched `Response`
 * too (the authorization server reads client metadata documents with it).
 */
export async function readBody(request: Pick<Request, 'headers' | 'body' | 'text'>, limit: number): Promise<{ text: string } | { tooLarge: true }> {
  const declared = request.headers.get('content-length')
  if (declared !== null) {
    if (Number(declared) > limit) return { tooLarge: true }
    // Bun reads exactly Content-Length bytes, so the declared length bounds the body.
    return { text: await request.text() }
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

/**
 * A JSON-RPC POST's body (what `readBody` read, within `limits.maxBytes`) parsed, or the refusal
 * to send instead: 413 past the size or key limit, 400 (-32600) nested too deep, 400 (-32700)
 * when it is not JSON, so both transports that take POSTs refuse alike. Synchronous, so the hot
 * path still awaits only the read; a parsed body is never a Response, so callers tell the two
 * apart with `instanceof` and no wrapper object is made.
 */
export function parseJsonBody(body: { text: string } | { tooLarge: true }, limits: JsonLimits, cors: Record<string, string>): unknown {
  if ('tooLarge' in body) return rpcErrorResponse(413, ErrorCode.InvalidRequest, `Payload Too Large: the body exceeds ${limits.maxBytes} bytes`, cors)
  const parsed = parseLimitedJson(body.text, limits)
  if ('value' in parsed) return parsed.value
  if ('shape' in parsed) return rpcErrorResponse(parsed.shape.kind === 'keys' ? 413 : 400, ErrorCode.InvalidRequest, `Invalid Request: ${parsed.shape.message}`, cors)
  return rpcErrorResponse(400, ErrorCode.ParseError, `Parse error: the body is not valid JSON (${clip(parsed.syntax, 256)})`, cors)
}

/**
 * The MCP-Protocol-Version rule every HTTP transport applies after initialize: absent is allowed
 * (the session's negotiated version stands), present and unsupported is 400.
 */
export function protocolVersionProblem(request: Request, cors: Readonly<Record<string, string>>): Response | undefined {
  const version = request.headers.get('mcp-protocol-version')
  if (version === null || isSupportedVersion(version)) return undefined
  return rpcErrorResponse(
    400,
    ErrorCode.ConnectionClosed,
    `Bad Request: unsupported MCP-Protocol-Version "${clip(version)}" (supported: ${SUPPORTED_PROTOCOL_VERSIONS.join(', ')})`,
    cors,
  )
}
