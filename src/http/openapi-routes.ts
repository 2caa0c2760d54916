/**
 * @module http/openapi-routes
 * The OpenAPI 3.1 document at `/openapi.json` (Elysia's OpenAPI plugin, from the routes' `detail`)
 * and Swagger UI at `/docs`. Two things the plugin does not do are done here:
 *
 * - Tools are registered at run time without new routes, and the plugin caches its document
 *   until the route count changes; so every tool's operation is merged in per request, from the
 *   registry (see `tool-operations.ts`).
 * - The page must work offline: its script and stylesheet are `swagger-ui-dist` files served
 *   from here, and a Content-Security-Policy lets the page load nothing from anywhere else and
 *   talk only to this origin.
 */
import { openapi } from '@elysiajs/openapi'
import { SwaggerUIRender } from '@elysiajs/openapi/swagger'
import { createHash } from 'node:crypto'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Elysia } from 'elysia'
import type { Registry } from '../core/registry.ts'
import { json, restError } from '../lib/respond.ts'
import { API_COMPONENTS, ROUTE_DOCS } from './route-docs.ts'
import { TIER_TAGS, toolOperations } from './tool-operations.ts'

export interface OpenApiRoutesOptions {
  registry: Registry
  version: string
  /** Whether calls need a bearer token (authentication on). */
  authRequired: boolean
  /** The MCP transport endpoints: not REST, so left out of the document and named in its description. */
  mcpPaths: string[]
}

export const SPEC_PATH = '/openapi.json'
export const DOCS_PATH = '/docs'
const ASSETS_PATH = `${DOCS_PATH}/assets`

/** The swagger-ui-dist files the page loads; nothing else under the assets path is served. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
}

function assetDirectory(): string {
  const dir = dirname(fileURLToPath(import.meta.resolve('swagger-ui-dist/package.json')))
  for (const file of Object.keys(ASSETS))
    if (!existsSync(join(dir, file))) throw new Error(`swagger-ui-dist is incomplete: ${join(dir, file)} is missing; run bun install`)
  return dir
}

/** Swagger UI's page as the plugin renders it, pointed at local files, with a CSP that keeps it local. */
function swaggerPage(version: string): { html: string; headers: Record<string, string> } {
  const html = SwaggerUIRender(
    { title: 'mcprag API', description: 'The mcprag REST API and its tools', version },
    {
      // Relative, so the page also works behind a proxy that mounts the server under a prefix.
      url: SPEC_PATH.slice(1),
      theme: `${ASSETS_PATH.slice(1)}/swagger-ui.css`,
      cdn: `${ASSETS_PATH.slice(1)}/swagger-ui-bundle.js`,
      autoDarkMode: true,
      // A pasted token must not outlive the tab in localStorage.
      persistAuthorization: false,
      tryItOutEnabled: true,
      displayRequestDuration: true,
      docExpansion: 'list',
      defaultModelsExpandDepth: -1,
      // The online validator would send the document to swagger.io.
      validatorUrl: 'none',
    },
  )
  // The one inline script (SwaggerUIBundle's options) is allowed by its hash, not by 'unsafe-inline'.
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`)
  const csp = [
    "default-src 'none'",
    `script-src 'self' ${hashes.join(' ')}`,
    // Swagger UI styles elements inline as it renders.
    "style-src 'self' 'unsafe-inline'",
    "img-src 'self' data:",
    "font-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ')
  return {
    html,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'referrer-policy': 'no-referrer',
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'cache-control': 'no-cache',
    },
  }
}

export function openApiRoutes(o: OpenApiRoutesOptions) {
  const assets = assetDirectory()
  const page = swaggerPage(o.version)
  const tierTags = Object.values(TIER_TAGS)
  const description = [
    'The REST API of this mcprag server. Every registered tool is listed below as its own `POST /mcp/tool/{name}` operation, generated from the registry that serves MCP, so the page always shows what the server really runs.',
    o.authRequired
      ? 'To try a call: sign in (`POST /auth/login`, then the emailed link, or `bun run mcprag user token <email>`), press **Authorize**, paste the token, then **Execute** an operation.'
      : 'Authentication is off on this server (`MCPRAG_AUTH=off`): every caller is an anonymous admin.',
    `The MCP transports are not REST and are not listed: ${o.mcpPaths.map((p) => `\`${p}\``).join(', ')}.`,
  ].join('\n\n')

  const withTools = (doc: Record<string, unknown>) => ({
    ...doc,
    paths: { ...(doc.paths as object), ...toolOperations(o.registry.tools(), { authRequired: o.authRequired }) },
  })

  return (
    new Elysia({ name: 'http:openapi' })
      // Local: runs for this plugin's routes only, so no other request pays for it.
      .onAfterHandle(({ path, response }) => {
        if (path !== SPEC_PATH || typeof response !== 'object' || response === null || response instanceof Response) return undefined
        return json(200, withTools(response as Record<string, unknown>))
      })
      .use(
        openapi({
          // The page is served below (local assets, CSP); the plugin serves the document.
          provider: null,
          specPath: SPEC_PATH,
          documentation: {
            info: { title: 'mcprag', version: o.version, description },
            tags: [
              { name: 'Operations', description: 'Liveness, readiness and metrics for the platform' },
              ...(o.authRequired ? [{ name: 'Authentication', description: 'Magic-link sign-in, TOTP and sessions' }] : []),
              { name: 'Tools', description: 'The tools you may call' },
              ...tierTags,
            ],
            components: API_COMPONENTS as never,
          },
          // `/.well-known/…` has a dot in it; there are no other static files to hide.
          exclude: { staticFile: false, paths: o.mcpPaths },
        }),
      )
      .get(DOCS_PATH, () => new Response(page.html, { headers: page.headers }), { detail: ROUTE_DOCS.hidden })
      .get(
        `${ASSETS_PATH}/:file`,
        ({ params }) => {
          const type = Object.hasOwn(ASSETS, params.file) ? ASSETS[params.file] : undefined
          if (!type) return restError(404, 'not_found', 'No such asset')
          return new Response(Bun.file(join(assets, params.file)), {
            headers: { 'content-type': type, 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff' },
          })
        },
        { detail: ROUTE_DOCS.hidden },
      )
  )
}
