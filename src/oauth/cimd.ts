/**
 * @module oauth/cimd
 * Client ID Metadata Documents: a client whose `client_id` is an https URL publishes its metadata
 * there, and this server fetches it instead of asking the client to register. Fetching a URL a
 * stranger chose is an SSRF risk, so the fetch is fenced in:
 * - https only, default port or an explicit one, a path, no user info, no fragment;
 * - the host is resolved once, every address must be public (oauth/ip-policy.ts), and the
 *   connection goes to that pinned address (TLS still verifies the host name), so a second DNS
 *   answer cannot point it elsewhere (DNS rebinding);
 * - no redirects (a 3xx is refused, not followed), a time limit, and a size limit read while
 *   streaming;
 * - the document's `client_id` must equal the URL exactly, and its metadata passes the same checks
 *   as a registration; it may only be a public client (`none`: it has no secret to show).
 * Answers are cached per URL for the document's `max-age`, bounded to 30 s … 24 h (oidc-provider's
 * bounds), and failures for 30 s, so a client cannot make the server fetch in a loop.
 */
import { lookup as dnsLookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { parseClientMetadata, type ClientMetadata } from './client-metadata.ts'
import { readBody } from '../transports/http-guard.ts'
import { isPublicAddress } from './ip-policy.ts'

export const CIMD_TIMEOUT_MS = 5000
export const CIMD_MAX_BYTES = 64 * 1024
const MIN_CACHE_MS = 30_000
const MAX_CACHE_MS = 86_400_000
const DEFAULT_CACHE_MS = 300_000
const MAX_CACHED = 1000

export type Lookup = (host: string) => Promise<{ address: string; family: number }[]>
/** The network: called with the pinned URL (an IP literal) and the options a real fetch needs. */
export type PinnedFetch = (url: string, init: RequestInit & { tls?: { serverName?: string } }) => Promise<Response>

export interface CimdOptions {
  privateSchemes: readonly string[]
  now: () => number
  lookup?: Lookup
  fetch?: PinnedFetch
  timeoutMs?: number
  maxBytes?: number
}

export type CimdResult = { ok: true; metadata: ClientMetadata } | { ok: false; reason: string }

/** Whether a client_id is a URL-form id (a metadata document) rather than one this server issued. */
export const isUrlClientId = (clientId: string) => clientId.startsWith('https://')

export class CimdClients {
  readonly #o: CimdOptions
  readonly #cache = new Map<string, { result: CimdResult; until: number }>()

  constructor(opts: CimdOptions) {
    this.#o = opts
  }

  /** The metadata the document at `clientId` declares, or why it cannot be used. */
  async get(clientId: string): Promise<CimdResult> {
    const now = this.#o.now()
    const cached = this.#cache.get(clientId)
    if (cached && cached.until > now) return cached.result
    const { result, ttlMs } = await this.#fetch(clientId)
    if (this.#cache.size >= MAX_CACHED) this.#cache.clear()
    this.#cache.set(clientId, { result, until: now + ttlMs })
    return result
  }

  async #fetch(clientId: string): Promise<{ result: CimdResult; ttlMs: number }> {
    const refuse = (reason: string) => ({ result: { ok: false as const, reason }, ttlMs: MIN_CACHE_MS })
    let url: URL
    try {
      url = new URL(clientId)
    } catch {
      return refuse('the client_id is not a URL')
    }
    if (url.protocol !== 'https:' || url.username || url.password || url.hash || clientId.includes('#'))
      return refuse('a URL client_id must be https, without user info or fragment')
    if (url.pathname === '/' || url.pathname.split('/').some((s) => s === '.' || s === '..')) return refuse('a URL client_id must have a path without dot segments')
    if (url.href !== clientId) return refuse('a URL client_id must be in normal form')

    const host = url.hostname.replace(/^\[|\]$/g, '')
    let addresses: string[]
    try {
      addresses = isIP(host) ? [host] : (await (this.#o.lookup ?? ((h) => dnsLookup(h, { all: true })))(host)).map((a) => a.address)
    } catch {
      return refuse(`the host ${url.hostname} does not resolve`)
    }
    if (addresses.length === 0) return refuse(`the host ${url.hostname} does not resolve`)
    const blocked = addresses.find((a) => !isPublicAddress(a))
    if (blocked !== undefined) return refuse(`the host ${url.hostname} resolves to a non-public address (${blocked}); metadata documents must be on the public internet`)

    const pinned = new URL(clientId)
    pinned.hostname = addresses[0]!.includes(':') ? `[${addresses[0]}]` : addresses[0]!
    let response: Response
    try {
      response = await (this.#o.fetch ?? fetch)(pinned.href, {
        headers: { host: url.host, accept: 'application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#o.timeoutMs ?? CIMD_TIMEOUT_MS),
        tls: { serverName: url.hostname },
      })
    } catch (err) {
      return refuse(`fetching the metadata document failed (${err instanceof Error && err.name === 'TimeoutError' ? 'timed out' : 'network error'})`)
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {})
      return refuse(`the metadata document answered HTTP ${response.status} (redirects are not followed)`)
    }
    const body = await readCapped(response, this.#o.maxBytes ?? CIMD_MAX_BYTES)
    if (body === undefined) return refuse(`the metadata document is larger than ${this.#o.maxBytes ?? CIMD_MAX_BYTES} bytes or could not be read in time`)
    let doc: unknown
    try {
      doc = JSON.parse(body)
    } catch {
      return refuse('the metadata document is not JSON')
    }
    if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return refuse('the metadata document is not a JSON object')
    const d = doc as Record<string, unknown>
    if (d.client_id !== clientId) return refuse('the metadata document names another client_id than its own URL')
    if (d.token_endpoint_auth_method !== undefined && d.token_endpoint_auth_method !== 'none')
      return refuse('a metadata-document client must be public (token_endpoint_auth_method "none")')
    const parsed = parseClientMetadata(d, { privateSchemes: this.#o.privateSchemes, defaultAuthMethod: 'none' })
    if (!parsed.ok) return refuse(parsed.description)
    return { result: { ok: true, metadata: parsed.metadata }, ttlMs: cacheTtl(response.headers.get('cache-control')) }
  }
}

function cacheTtl(cacheControl: string | null): number {
  if (cacheControl && /\bno-store\b/.test(cacheControl)) return MIN_CACHE_MS
  const maxAge = cacheControl ? /\bmax-age=(\d+)/.exec(cacheControl)?.[1] : undefined
  const ms = maxAge === undefined ? DEFAULT_CACHE_MS : Number(maxAge) * 1000
  return Math.min(MAX_CACHE_MS, Math.max(MIN_CACHE_MS, ms))
}

/** The body as text, or undefined once it passes `limit` bytes (reading stops there) or fails (the time limit). */
async function readCapped(response: Response, limit: number): Promise<string | undefined> {
  try {
    const body = await readBody(response, limit)
    if ('text' in body) return body.text
  } catch {
    return undefined
  }
  await response.body?.cancel().catch(() => {})
  return undefined
}
