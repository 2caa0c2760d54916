/**
 * @module oauth/metadata
 * Authorization server metadata (RFC 8414) at `/.well-known/oauth-authorization-server`. The
 * issuer is the public URL with no trailing slash, byte-identical to the protected-resource
 * metadata's `authorization_servers[0]` and to the `iss` on every authorization response (MCP
 * clients compare them exactly). There is no OpenID Connect document: this server issues no ID
 * tokens, and the SDKs would reject one without `jwks_uri`.
 */
import { Elysia } from 'elysia'
import { json } from '../lib/respond.ts'
import { ROUTE_DOCS } from '../http/route-docs.ts'
import { AUTH_METHODS } from './client-metadata.ts'
import type { Resources } from '../auth/resources.ts'
import { SUPPORTED_SCOPES } from './scopes.ts'

const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'mcp-protocol-version' }

export function authorizationServerMetadata(issuer: string): Record<string, unknown> {
  return {
    issuer,
    authorization_endpoint: `${issuer}/authorize`,
    token_endpoint: `${issuer}/token`,
    registration_endpoint: `${issuer}/register`,
    revocation_endpoint: `${issuer}/revoke`,
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: ['authorization_code', 'refresh_token'],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    scopes_supported: SUPPORTED_SCOPES,
    client_id_metadata_document_supported: true,
    authorization_response_iss_parameter_supported: true,
    service_documentation: `${issuer}/docs`,
  }
}

export function metadataRoutes(resources: Resources) {
  return new Elysia({ name: 'oauth:metadata' })
    .get('/.well-known/oauth-authorization-server', () => json(200, authorizationServerMetadata(resources.issuer), { 'cache-control': 'max-age=300', ...CORS }), {
      detail: ROUTE_DOCS.oauth('Authorization server metadata (RFC 8414)', 'Where MCP clients find the endpoints below; the issuer is the public URL.'),
    })
    .options('/.well-known/oauth-authorization-server', () => new Response(null, { status: 204, headers: CORS }))
}
