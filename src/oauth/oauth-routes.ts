/**
 * @module oauth/oauth-routes
 * The authorization server as one Elysia plugin: metadata, registration, the authorization
 * endpoint with its sign-in and consent pages, GitHub sign-in when configured, token and
 * revocation. The composition root mounts it with `app.use(oauthRoutes(…))`.
 */
import { Elysia } from 'elysia'
import type { Auth } from '../auth/auth.ts'
import type { HttpGuard } from '../transports/http-guard.ts'
import { authorizeRoutes } from './authorize-routes.ts'
import { BrowserCookie } from './browser-session.ts'
import { CimdClients, type Lookup, type PinnedFetch } from './cimd.ts'
import { ClientRegistry } from './clients.ts'
import { CLIENT_IDLE_TTL_MS, type OAuthContext, type OAuthSettings } from './context.ts'
import { githubRoutes } from './github.ts'
import { Grants } from './grants.ts'
import { metadataRoutes } from './metadata.ts'
import { registerRoutes } from './register-routes.ts'
import type { Resources } from '../auth/resources.ts'
import type { OAuthStores } from './stores.ts'
import { tokenRoutes } from './token-routes.ts'

export interface OAuthRoutesOptions {
  auth: Auth
  stores: OAuthStores
  resources: Resources
  guard: HttpGuard
  settings: OAuthSettings
  now?: () => number
  /** The network for Client ID Metadata Documents (tests replace it; the default is DNS + fetch). */
  cimdNetwork?: { lookup?: Lookup; fetch?: PinnedFetch }
}

export function oauthRoutes(o: OAuthRoutesOptions) {
  const now = o.now ?? Date.now
  const cimd = new CimdClients({ privateSchemes: o.settings.redirectSchemes, now, ...o.cimdNetwork })
  const clients = new ClientRegistry({ store: o.stores.clients, cimd, idleTtlMs: CLIENT_IDLE_TTL_MS, now })
  const ctx: OAuthContext = { auth: o.auth, stores: o.stores, clients, resources: o.resources, guard: o.guard, settings: o.settings, now }
  const grants = new Grants(ctx)
  const cookie = new BrowserCookie(() => o.resources.issuer)
  const authorize = authorizeRoutes(ctx, grants, cookie)
  const app = new Elysia({ name: 'oauth' })
    .use(metadataRoutes(o.resources))
    .use(registerRoutes(ctx))
    .use(authorize.plugin)
    .use(tokenRoutes(ctx, grants))
  if (o.settings.github) app.use(githubRoutes(ctx, o.settings.github, cookie, authorize))
  return app
}
