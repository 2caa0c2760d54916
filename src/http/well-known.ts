/**
 * @module http/well-known
 * OAuth 2.0 Protected Resource Metadata (RFC 9728), where MCP clients look after a 401: one
 * document for the whole server and one per MCP endpoint (`/.well-known/oauth-protected-resource/mcp`
 * describes `<issuer>/mcp`, …). Each document's `resource` is exactly the URL it describes, since
 * strict clients (VS Code) compare it with the URL they connected to (RFC 9728 §3.3). The server
 * is its own authorization server. `scopes_supported` is the baseline only: admin access is asked
 * for through a 403 challenge. Public data: any origin may read it.
 */
import { Elysia } from 'elysia'
import type { Resources } from '../auth/resources.ts'
import { SCOPE_TOOLS } from '../auth/resources.ts'
import { json } from '../lib/respond.ts'
import { ROUTE_DOCS } from './route-docs.ts'

const CORS = { 'access-control-allow-origin': '*', 'access-control-allow-methods': 'GET, OPTIONS', 'access-control-allow-headers': 'mcp-protocol-version' }

export function wellKnownRoutes(resources: Resources) {
  const document = (resource: string) =>
    json(
      200,
      {
        resource,
        authorization_servers: [resources.issuer],
        scopes_supported: [SCOPE_TOOLS],
        bearer_methods_supported: ['header'],
        resource_name: 'mcprag',
        resource_documentation: `${resources.issuer}/docs`,
        // Not an RFC 9728 field: where a script signs in without OAuth (magic link by email).
        mcprag_sign_in: `${resources.issuer}/auth/login`,
      },
      { 'cache-control': 'max-age=300', ...CORS },
    )
  const preflight = () => new Response(null, { status: 204, headers: CORS })
  const app = new Elysia({ name: 'http:well-known' })
  for (const path of resources.metadataPaths()) {
    const endpoint = path.slice('/.well-known/oauth-protected-resource'.length)
    app.get(path, () => document(resources.issuer + endpoint), { detail: ROUTE_DOCS.protectedResource(endpoint === '' ? 'server' : endpoint.slice(1)) })
    app.options(path, preflight)
  }
  return app
}
