/**
 * @module http/rest
 * The REST routes' shared plumbing: JSON bodies in (size, media type and shape checked) and the
 * one place that turns an `AuthError` into a status, headers and a `{error, message}` body
 * (built by lib/respond.ts, like every other JSON answer).
 */
import { authErrorHeaders } from '../auth/bearer.ts'
import type { AuthError } from '../auth/errors.ts'
import { isJsonContentType, readBody } from '../transports/http-guard.ts'
import { parseLimitedJson, type JsonLimits } from '../transports/json-limits.ts'
import { restError } from '../lib/respond.ts'

/** Bodies of /auth/* requests are tiny and flat; anything bigger is refused before parsing. */
export const AUTH_BODY_LIMIT_BYTES = 4096
export const AUTH_JSON_LIMITS: JsonLimits = Object.freeze({ maxBytes: AUTH_BODY_LIMIT_BYTES, maxDepth: 8, maxKeys: 64 })

export function authErrorResponse(err: AuthError, resourceMetadata: string, headers: Record<string, string> = {}): Response {
  return restError(err.status, err.code, err.message, err.opts.retryAfterS === undefined ? {} : { retry_after_s: err.opts.retryAfterS }, {
    ...headers,
    ...authErrorHeaders(err, resourceMetadata),
  })
}

/**
 * Read a JSON object body. An empty body is `{}` when `allowEmpty`; otherwise the body must be
 * `application/json`, within `limits` (size, nesting, keys), valid JSON, and an object. Refusals
 * are `AuthError`-free responses (400/413/415) the route returns as they are.
 */
export async function readJsonObject(request: Request, limits: JsonLimits, opts: { allowEmpty?: boolean } = {}): Promise<Record<string, unknown> | Response> {
  const body = await readBody(request, limits.maxBytes)
  if ('tooLarge' in body) return restError(413, 'payload_too_large', `The body exceeds ${limits.maxBytes} bytes`)
  if (body.text.trim() === '' && opts.allowEmpty) return {}
  if (!isJsonContentType(request)) return restError(415, 'unsupported_media_type', 'Send the body as Content-Type: application/json')
  const result = parseLimitedJson(body.text, limits)
  if ('shape' in result)
    return result.shape.kind === 'keys' ? restError(413, 'payload_too_large', `The body is too large: ${result.shape.message}`) : restError(400, 'invalid_json', `The body is refused: ${result.shape.message}`)
  if ('syntax' in result) return restError(400, 'invalid_json', 'The body is not valid JSON')
  const parsed = result.value
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return restError(400, 'invalid_request', 'The body must be a JSON object')
  return parsed as Record<string, unknown>
}
