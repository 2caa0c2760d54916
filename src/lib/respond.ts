/**
 * @module lib/respond
 * The one home of HTTP answers that carry JSON: plain JSON bodies, REST errors (`{error, message}`),
 * JSON-RPC errors over HTTP (`id: null`: they answer no particular request), OAuth errors
 * (RFC 6749 §5.2 `{error, error_description}`, never cached) and the Bearer challenges of 401 and
 * 403 answers (RFC 6750 §3, RFC 9728 §5.1). Pages (HTML) and streams are built elsewhere.
 */

export type HeaderRecord = Readonly<Record<string, string>>

/**
 * The headers of every JSON answer. `nosniff`: some answers reflect client input (a method or
 * field name), and no browser may take one for HTML or script.
 */
export const JSON_HEADERS: HeaderRecord = Object.freeze({ 'content-type': 'application/json', 'x-content-type-options': 'nosniff' })

/** Token and error answers must never be stored by a cache (RFC 6749 §5.1, RFC 6750 §3). */
export const NO_STORE: HeaderRecord = Object.freeze({ 'cache-control': 'no-store' })

export function json(status: number, body: unknown, headers: HeaderRecord = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } })
}

/** A REST refusal: a stable snake_case code, a sentence saying what to do next, and any extra fields. */
export function restError(status: number, error: string, message: string, extra: Record<string, unknown> = {}, headers: HeaderRecord = {}): Response {
  return json(status, { error, message, ...extra }, headers)
}

/** A JSON-RPC error as an HTTP response, for refusals made before any message was read. */
export function rpcError(status: number, code: number, message: string, headers: HeaderRecord = {}): Response {
  return json(status, { jsonrpc: '2.0', error: { code, message }, id: null }, headers)
}

/** The OAuth error codes this server answers with (RFC 6749 §4.1.2.1, §5.2; RFC 7591 §3.2.2; RFC 8707 §2). */
export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'

/** An OAuth error body; `no-store` always, since these answer token and registration requests. */
export function oauthError(status: number, error: OAuthErrorCode, description: string, headers: HeaderRecord = {}): Response {
  return json(status, { error, error_description: description }, { ...NO_STORE, ...headers })
}

export interface Challenge {
  /** The protected-resource metadata document of the endpoint that refused (RFC 9728 §5.1). */
  resourceMetadata: string
  /** Every scope the refused request needs, space-separated (MCP: all in one challenge). */
  scope?: string
  /** Absent when no credential was presented (RFC 6750 §3.1). */
  error?: 'invalid_token' | 'insufficient_scope' | 'invalid_request'
  description?: string
}

/**
 * A `WWW-Authenticate` value. It is one Bearer challenge and nothing before it: the MCP SDKs read
 * the parameters only when the header starts with `Bearer`. Quotes in values become apostrophes,
 * so a description can never end the quoted string early.
 */
export function authChallenge(c: Challenge): string {
  const quote = (v: string) => `"${v.replaceAll('\\', '/').replaceAll('"', "'")}"`
  const parts = [`resource_metadata=${quote(c.resourceMetadata)}`]
  if (c.scope) parts.push(`scope=${quote(c.scope)}`)
  if (c.error) parts.push(`error=${quote(c.error)}`)
  if (c.error && c.description) parts.push(`error_description=${quote(c.description)}`)
  return `Bearer ${parts.join(', ')}`
}
