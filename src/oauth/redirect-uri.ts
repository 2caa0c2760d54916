/**
 * @module oauth/redirect-uri
 * Which redirect URIs a client may register, and whether a requested one matches. Pure.
 *
 * Registration accepts https URLs, http on a loopback host (`127.0.0.1`, `[::1]`, `localhost`,
 * RFC 8252 §7.3), and private-use schemes (RFC 8252 §7.1) that are allow-listed
 * (`MCPRAG_OAUTH_REDIRECT_SCHEMES`, e.g. Cursor's `cursor://`) or reverse-DNS (they contain a dot).
 * Never `javascript:`, `data:`, `file:` or `vbscript:`, never user info or a fragment (RFC 6749
 * §3.1.2). A request matches a registered URI exactly, except that on a loopback host the port may
 * differ (RFC 8252 §7.3: native apps pick a free port); host names never cross (`localhost` is not
 * `127.0.0.1`), and path and query must be identical.
 */

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '[::1]', 'localhost'])
const NEVER = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'http:', 'https:', 'ws:', 'wss:', 'ftp:'])
/** The longest redirect URI accepted; real ones are far shorter. */
const MAX_LENGTH = 2000

export type RedirectUriCheck = { ok: true } | { ok: false; reason: string }

export function checkRedirectUri(value: unknown, privateSchemes: readonly string[]): RedirectUriCheck {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return { ok: false, reason: 'must be a URL of at most 2000 characters' }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return { ok: false, reason: 'is not an absolute URL' }
  }
  if (url.hash || value.includes('#')) return { ok: false, reason: 'must not have a fragment' }
  if (url.username || url.password) return { ok: false, reason: 'must not carry user info' }
  if (url.protocol === 'https:') return url.hostname ? { ok: true } : { ok: false, reason: 'has no host' }
  if (url.protocol === 'http:')
    return LOOPBACK_HOSTS.has(url.hostname) ? { ok: true } : { ok: false, reason: 'uses http on a host that is not loopback (use https, or http://127.0.0.1 for a native app)' }
  if (NEVER.has(url.protocol)) return { ok: false, reason: `uses the forbidden scheme ${url.protocol}` }
  const scheme = url.protocol.slice(0, -1)
  if (privateSchemes.includes(scheme) || /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+$/.test(scheme)) return { ok: true }
  return { ok: false, reason: `uses the scheme "${scheme}:", which is neither https, loopback http, reverse-DNS nor allow-listed (MCPRAG_OAUTH_REDIRECT_SCHEMES)` }
}

/** Whether `requested` is one of the client's `registered` redirect URIs (see the module comment). */
export function redirectUriMatches(registered: readonly string[], requested: string): boolean {
  if (registered.includes(requested)) return true
  let want: URL
  try {
    want = new URL(requested)
  } catch {
    return false
  }
  if (want.protocol !== 'http:' || !LOOPBACK_HOSTS.has(want.hostname) || want.hash || requested.includes('#') || want.username || want.password) return false
  return registered.some((r) => {
    let have: URL
    try {
      have = new URL(r)
    } catch {
      return false
    }
    return have.protocol === 'http:' && have.hostname === want.hostname && have.pathname === want.pathname && have.search === want.search
  })
}

/** Whether a URI redirects to this machine only (the consent page warns: the app is local). */
export function isLoopbackRedirect(uri: string): boolean {
  try {
    return LOOPBACK_HOSTS.has(new URL(uri).hostname)
  } catch {
    return false
  }
}
