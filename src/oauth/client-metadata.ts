/**
 * @module oauth/client-metadata
 * Client metadata (RFC 7591 §2) as a registration request or a Client ID Metadata Document sends
 * it, checked and normalised. Pure: returns the metadata or the RFC 7591 §3.2.2 error to answer.
 * Only what this server uses is kept; `logo_uri` and other URLs are never fetched, and
 * `client_name` is shown escaped.
 */
import type { OAuthErrorCode } from '../lib/respond.ts'
import { checkRedirectUri } from './redirect-uri.ts'
import { parseScope } from './scopes.ts'

export type TokenEndpointAuthMethod = 'none' | 'client_secret_post' | 'client_secret_basic'

export const AUTH_METHODS: readonly TokenEndpointAuthMethod[] = ['none', 'client_secret_post', 'client_secret_basic']
const GRANT_TYPES = ['authorization_code', 'refresh_token']
const MAX_REDIRECT_URIS = 20
const MAX_TEXT = 200

export interface ClientMetadata {
  redirectUris: string[]
  tokenEndpointAuthMethod: TokenEndpointAuthMethod
  grantTypes: string[]
  clientName?: string
  clientUri?: string
  scope?: string
  applicationType?: 'native' | 'web'
  softwareId?: string
  softwareVersion?: string
}

export type MetadataResult = { ok: true; metadata: ClientMetadata } | { ok: false; error: OAuthErrorCode; description: string }

const fail = (error: OAuthErrorCode, description: string): MetadataResult => ({ ok: false, error, description })

function text(body: Record<string, unknown>, field: string): string | undefined | false {
  const v = body[field]
  if (v === undefined || v === null) return undefined
  return typeof v === 'string' && v.length <= MAX_TEXT && !/[\x00-\x1f]/.test(v) ? v : false
}

export function parseClientMetadata(body: Record<string, unknown>, opts: { privateSchemes: readonly string[]; defaultAuthMethod: TokenEndpointAuthMethod }): MetadataResult {
  const uris = body.redirect_uris
  if (!Array.isArray(uris) || uris.length === 0 || uris.length > MAX_REDIRECT_URIS)
    return fail('invalid_redirect_uri', `"redirect_uris" must be a list of 1 to ${MAX_REDIRECT_URIS} URLs`)
  for (const uri of uris) {
    const check = checkRedirectUri(uri, opts.privateSchemes)
    if (!check.ok) return fail('invalid_redirect_uri', `The redirect URI ${JSON.stringify(String(uri).slice(0, 100))} ${check.reason}`)
  }
  const method = body.token_endpoint_auth_method ?? opts.defaultAuthMethod
  if (!AUTH_METHODS.includes(method as TokenEndpointAuthMethod))
    return fail('invalid_client_metadata', `"token_endpoint_auth_method" must be one of ${AUTH_METHODS.join(', ')}`)
  const grants = body.grant_types ?? ['authorization_code']
  if (!Array.isArray(grants) || grants.length === 0 || !grants.every((g) => GRANT_TYPES.includes(g as string)) || !grants.includes('authorization_code'))
    return fail('invalid_client_metadata', `"grant_types" must list authorization_code and may add refresh_token`)
  const responses = body.response_types ?? ['code']
  if (!Array.isArray(responses) || responses.length !== 1 || responses[0] !== 'code') return fail('invalid_client_metadata', '"response_types" must be ["code"]')
  const scope = body.scope
  if (scope !== undefined && (typeof scope !== 'string' || !parseScope(scope).ok)) return fail('invalid_client_metadata', '"scope" lists a scope this server does not know (mcp:tools, mcp:admin, offline_access)')
  const app = body.application_type
  if (app !== undefined && app !== 'native' && app !== 'web') return fail('invalid_client_metadata', '"application_type" must be "native" or "web"')
  const fields: Partial<ClientMetadata> = {}
  for (const [field, key] of [['client_name', 'clientName'], ['client_uri', 'clientUri'], ['software_id', 'softwareId'], ['software_version', 'softwareVersion']] as const) {
    const v = text(body, field)
    if (v === false) return fail('invalid_client_metadata', `"${field}" must be a string of at most ${MAX_TEXT} characters without control characters`)
    if (v !== undefined) fields[key] = v
  }
  if (fields.clientUri !== undefined && !/^https:\/\/[^\s]+$/.test(fields.clientUri)) return fail('invalid_client_metadata', '"client_uri" must be an https URL')
  return {
    ok: true,
    metadata: {
      ...fields,
      redirectUris: [...new Set(uris as string[])],
      tokenEndpointAuthMethod: method as TokenEndpointAuthMethod,
      grantTypes: [...new Set(grants as string[])],
      ...(typeof scope === 'string' ? { scope } : {}),
      ...(app ? { applicationType: app } : {}),
    },
  }
}
