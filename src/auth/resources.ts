/**
 * @module auth/resources
 * The protected resources this server is (RFC 8707 / RFC 9728): the whole server (the issuer
 * URL) and each MCP endpoint (`<issuer>/mcp`, `<issuer>/sse`, …). Each has its own metadata
 * document whose `resource` is exactly the URL a client connected to, because strict clients
 * (VS Code, RFC 9728 §3.3) compare the two. Tokens for any of them are accepted everywhere: it is
 * one server, so an access token's `aud` must be one of `all()`.
 */

/** The scope every client gets; `mcp:admin` is asked for only through a 403 step-up challenge. */
export const SCOPE_TOOLS = 'mcp:tools'
export const SCOPE_ADMIN = 'mcp:admin'
/** What an admin tool needs, in one challenge (MCP: every scope the operation needs, together). */
export const ADMIN_SCOPES = `${SCOPE_TOOLS} ${SCOPE_ADMIN}`

const WELL_KNOWN = '/.well-known/oauth-protected-resource'

export interface ResourcesOptions {
  /** The public URL, no trailing slash; resolved on use (known only once the server listens). */
  issuer: () => string
  /** Endpoint paths that are resources of their own, e.g. `/mcp`, `/sse`. */
  endpoints: string[]
  /** Paths answered as part of another endpoint, e.g. `/messages` → `/sse`. */
  aliases?: Record<string, string>
}

export class Resources {
  readonly #o: ResourcesOptions
  /** `all()` for the last issuer seen: asked on every authenticated request, it changes at most once (at listen). */
  #all: { issuer: string; list: string[] } | undefined

  constructor(opts: ResourcesOptions) {
    this.#o = opts
  }

  get issuer(): string {
    return this.#o.issuer()
  }

  get endpoints(): readonly string[] {
    return this.#o.endpoints
  }

  /** Every resource URL: the issuer first, then each endpoint. */
  all(): string[] {
    const issuer = this.issuer
    if (this.#all?.issuer !== issuer) this.#all = { issuer, list: [issuer, ...this.#o.endpoints.map((p) => issuer + p)] }
    return this.#all.list
  }

  /** The resource URL for a request path (an endpoint, an alias of one, or else the whole server). */
  forPath(pathname: string): string {
    const path = this.#o.aliases?.[pathname] ?? pathname
    return this.#o.endpoints.includes(path) ? this.issuer + path : this.issuer
  }

  /** Where a resource's metadata document is (RFC 9728 §3.1: the path goes after the well-known part). */
  metadataUrl(resource: string): string {
    return `${this.issuer}${WELL_KNOWN}${resource.slice(this.issuer.length)}`
  }

  /** The metadata document for the endpoint serving `pathname`: where its 401 and 403 point. */
  metadataUrlForPath(pathname: string): string {
    return this.metadataUrl(this.forPath(pathname))
  }

  /** The paths the metadata documents are served at (root first). */
  metadataPaths(): string[] {
    return [WELL_KNOWN, ...this.#o.endpoints.map((p) => WELL_KNOWN + p)]
  }

  /**
   * The resource a client named, in canonical form, if it is one of ours. Scheme and host compare
   * case-insensitively (MCP "Canonical Server URI"); a trailing slash on the bare origin is
   * tolerated; anything else (query, fragment, another path) is not ours.
   */
  canonical(value: string): string | undefined {
    let url: URL
    try {
      url = new URL(value)
    } catch {
      return undefined
    }
    if (url.hash || url.search || url.username || url.password) return undefined
    const path = url.pathname === '/' ? '' : url.pathname
    const candidate = url.origin + path
    return this.all().find((r) => r === candidate)
  }
}
