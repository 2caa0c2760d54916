/**
 * @module oauth/authorize-request
 * The checks of an authorization request (RFC 6749 §4.1.1 with OAuth 2.1, PKCE and RFC 8707),
 * pure and in the order that decides how an error may be answered: until the client and its
 * redirect URI are known good, an error is a page (never a redirect: no open redirector); after
 * that, errors go back to the client's redirect URI with `state` and `iss`.
 */
import { PKCE_VALUE } from './pkce.ts'
import type { ResolvedClient } from './clients.ts'
import { redirectUriMatches } from './redirect-uri.ts'
import type { Resources } from '../auth/resources.ts'
import { parseScope } from './scopes.ts'

export interface AuthorizeRequest {
  redirectUri: string
  state?: string
  codeChallenge: string
  resource: string
  scopes: string[]
}

export type AuthorizeCheck =
  | { ok: true; request: AuthorizeRequest }
  /** Shown as a 400 page: there is no trustworthy place to redirect to. */
  | { ok: false; page: string }
  /** Sent to the client's redirect URI. */
  | { ok: false; redirectUri: string; state?: string; error: 'invalid_request' | 'unsupported_response_type' | 'invalid_scope' | 'invalid_target'; description: string }

const SINGLE = ['client_id', 'redirect_uri', 'response_type', 'state', 'code_challenge', 'code_challenge_method', 'scope', 'resource'] as const
const MAX_STATE = 1024

export function checkAuthorizeRequest(params: URLSearchParams, client: ResolvedClient, resources: Resources): AuthorizeCheck {
  const requested = params.get('redirect_uri')
  let redirectUri: string
  if (requested === null) {
    if (client.redirectUris.length !== 1) return { ok: false, page: 'The request names no redirect_uri, and this application registered more than one.' }
    redirectUri = client.redirectUris[0]!
  } else if (params.getAll('redirect_uri').length > 1 || !redirectUriMatches(client.redirectUris, requested)) {
    return { ok: false, page: 'The redirect_uri is not one this application registered, so mcprag will not send you there.' }
  } else redirectUri = requested

  const stateValues = params.getAll('state')
  const state = stateValues.length === 1 ? stateValues[0] : undefined
  const fail = (error: Extract<AuthorizeCheck, { error: string }>['error'], description: string): AuthorizeCheck => ({ ok: false, redirectUri, state, error, description })
  if (stateValues.length > 1 || (state !== undefined && state.length > MAX_STATE)) return fail('invalid_request', 'state must be sent once, at most 1024 characters')
  // RFC 8707 §2: one resource here; RFC 6749 §3.1: no other parameter twice.
  if (params.getAll('resource').length > 1) return fail('invalid_target', 'send one resource parameter: this server issues tokens for one resource at a time')
  const repeated = SINGLE.find((p) => params.getAll(p).length > 1)
  if (repeated) return fail('invalid_request', `the parameter ${repeated} is repeated`)
  if (params.get('response_type') !== 'code') return fail('unsupported_response_type', 'response_type must be "code"')
  const challenge = params.get('code_challenge')
  if (params.get('code_challenge_method') !== 'S256') return fail('invalid_request', 'PKCE is required: send code_challenge_method=S256 (plain is not accepted)')
  if (challenge === null || challenge.length !== 43 || !PKCE_VALUE.test(challenge)) return fail('invalid_request', 'code_challenge must be the 43-character base64url SHA-256 of the code verifier')
  const resourceParam = params.get('resource')
  const resource = resourceParam === null ? resources.issuer : resources.canonical(resourceParam)
  if (resource === undefined) return fail('invalid_target', `resource must be this server (${resources.all().join(', ')})`)
  const scope = parseScope(params.get('scope') ?? '')
  if (!scope.ok) return fail('invalid_scope', `unknown scope ${scope.unknown.map((s) => JSON.stringify(s)).join(', ')}: this server grants mcp:tools and mcp:admin`)
  return { ok: true, request: { redirectUri, state, codeChallenge: challenge, resource, scopes: scope.scopes } }
}
