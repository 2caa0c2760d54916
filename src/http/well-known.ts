/**
 * @module http/well-known
 * OAuth 2.0 Protected Resource Metadata (RFC 9728), where MCP clients look after a 401: the root
 * document describes the whole server (every endpoint accepts the same tokens), the `/mcp`-suffixed
 * one the Streamable HTTP endpoint. Tokens come from this server's own sign-in (magic link), so the
 * server names itself as the authorization server. Public data: any origin may read it.
 */
import { Elysia } from 'elysia'
import { JSON_HEADERS } from '../transports/http-guard.ts'
import { ROUTE_DOCS } from './route-docs.ts'

const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'mcp-protocol-version' }

export function wellKnownRoutes(publicUrl: () => string) {
  const document = (resource: string) =>
    new Response(
      JSON.stringify({
        resource,
        authorization_servers: [publicUrl()],
        bearer_methods_supported: ['header'],
        resource_name: 'mcprag',
        // Not an RFC 9728 field: where a person signs in to get a token (magic link by email).
        mcprag_sign_in: `${publicUrl()}/auth/login`,
      }),
      { headers: { ...JSON_HEADERS, 'cache-control': 'max-age=300', ...CORS } },
    )
  const preflight = () => new Response(null, { status: 204, headers: CORS })
  return new Elysia({ name: 'http:well-known' })
    .get('/.well-known/oauth-protected-resource', () => document(publicUrl()), { detail: ROUTE_DOCS.protectedResource('server') })
    .get('/.well-known/oauth-protected-resource/mcp', () => document(`${publicUrl()}/mcp`), { detail: ROUTE_DOCS.protectedResource('mcp') })
    .options('/.well-known/oauth-protected-resource', preflight)
    .options('/.well-known/oauth-protected-resource/mcp', preflight)
}
