/**
 * @module server
 * The composition root: builds every part from the configuration, in order, each registering its
 * own teardown on one stack (so stopping undoes the build in reverse), mounts the transports and
 * routes, and listens. Which implementations back the seams is decided in `stores/open-stores.ts`.
 */
import { Elysia } from 'elysia'
import { AuditLog } from './auth/audit.ts'
import { createAuth, type Auth } from './auth/auth.ts'
import { mcpAuthenticate } from './auth/bearer.ts'
import { AuthError } from './auth/errors.ts'
import type { Config } from './config.ts'
import { STORE_RETRY_AFTER_S, StoreUnavailable } from './core/errors.ts'
import { McpServer } from './core/mcp-server.ts'
import { allowAll } from './core/ports.ts'
import { Registry } from './core/registry.ts'
import type { Principal, TransportKind } from './core/types.ts'
import { registerConformanceFixtures, watchConformanceResource } from './fixtures/conformance.ts'
import { authRoutes } from './http/auth-routes.ts'
import { healthRoutes } from './http/health.ts'
import { metricsRoutes } from './http/metrics-routes.ts'
import { openApiRoutes } from './http/openapi-routes.ts'
import { readinessRoutes } from './http/readiness-routes.ts'
import { FirstAdmin } from './http/first-admin-routes.ts'
import { restError } from './lib/respond.ts'
import { authErrorResponse } from './http/rest.ts'
import { toolRoutes } from './http/tool-routes.ts'
import { wellKnownRoutes } from './http/well-known.ts'
import { ConsoleMailer } from './mail/console-mailer.ts'
import { SmtpMailer } from './mail/smtp-mailer.ts'
import { ServerMetrics } from './metrics/server-metrics.ts'
import { oauthRoutes } from './oauth/oauth-routes.ts'
import { Resources } from './auth/resources.ts'
import { startCodeIndex, type CodeIndexService } from './tools/code-tools.ts'
import { openStores, type Stores } from './stores/open-stores.ts'
import { registerBuiltinTools } from './tools/builtin.ts'
import { ANONYMOUS, noAuthentication } from './transports/authenticate.ts'
import { ClientAddresses } from './transports/client-address.ts'
import { HttpGuard } from './transports/http-guard.ts'
import { LegacySseTransport } from './transports/legacy-sse.ts'
import { RevocationWatcher } from './transports/revocation-watcher.ts'
import { StreamableHttpTransport } from './transports/streamable-http.ts'
import { StreamLimits } from './transports/stream-limits.ts'
import type { TransportDeps } from './transports/transport-deps.ts'
import { WebSocketTransport } from './transports/websocket.ts'
import { SERVER_NAME, SERVER_VERSION } from './version.ts'

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  url: string
  port: number
  /** Random per process: tells instances sharing a store apart (`/metrics`, server request ids). */
  instanceId: string
  core: McpServer
  registry: Registry
  /** The seams' implementations, exposed so tests can check that closed connections release what they held. */
  stores: Stores
  /** The auth services; undefined when `MCPRAG_AUTH=off`. */
  auth?: Auth
  /** On a loopback server with auth on: a one-time link that makes the first admin, while there is no user. */
  firstRunLink?: () => Promise<string | undefined>
  /** The code index and its tools (`MCPRAG_INDEX_ROOTS`). */
  codeIndex: CodeIndexService
  /**
   * Drain, then stop: `/ready` answers 503 at once, requests keep being served for
   * `drainDelayMs`, in-flight work gets up to `shutdownGraceMs` to finish, then everything closes.
   */
  stop(): Promise<void>
}

/** The names of a loopback listener: a browser may reach this server under any of them. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]']
/** A readiness check slower than this fails: a probe must answer within its own timeout. */
const READY_CHECK_TIMEOUT_MS = 2000
/** Expired tokens, sessions and counters are dropped at boot and then this often, in bounded batches. */
const PURGE_EVERY_MS = 3_600_000
const PURGE_BATCH = 1000

const legacyMounts = [
  // `/sse` is where legacy clients look; `/mcp/sse` is also the REST API's event stream.
  { stream: '/sse', messages: '/messages' },
  { stream: '/mcp/sse', messages: '/mcp/messages' },
]
/** The MCP transports' routes: metrics label them by transport, and the REST docs leave them out. */
const transportRoutes = new Map<string, TransportKind>([
  ['/mcp', 'streamable-http'],
  ...legacyMounts.flatMap(({ stream, messages }) => [[stream, 'sse'], [messages, 'sse']] as [string, TransportKind][]),
  ['/mcp/ws', 'websocket'],
])

/** Build every part, start listening, and return a handle that can stop it all. */
export async function startServer(config: Config): Promise<RunningServer> {
  const stack = new AsyncDisposableStack()
  try {
    return await build(config, stack)
  } catch (err) {
    await stack.disposeAsync()
    throw err
  }
}

async function build(config: Config, stack: AsyncDisposableStack): Promise<RunningServer> {
  const startedAt = Date.now()
  const instanceId = crypto.randomUUID().slice(0, 8)
  const stores = await openStores(config, instanceId, stack)
  const registry = new Registry()
  // Shutdown sets it: /ready answers 503 from then on while in-flight work finishes.
  let draining = false
  // The gauges are read at scrape time (after listening) from the transports built below.
  const metrics: ServerMetrics = new ServerMetrics({
    version: SERVER_VERSION,
    instanceId,
    transportOf: (route) => transportRoutes.get(route),
    sessions: () => transports.sessions(),
    streams: () => transports.streams(),
    draining: () => draining,
  })
  // The emailed links, token issuer and audience; known once listening when not configured.
  let publicUrl = config.auth?.publicUrl ?? ''
  const addresses = new ClientAddresses(config.auth?.trustedProxies ?? 0, config.ipv6PrefixLength)
  // The protected resources: the server and each MCP endpoint (token audiences, 401/403 challenge targets).
  const resources = new Resources({
    issuer: () => publicUrl,
    endpoints: ['/mcp', '/sse', '/mcp/sse', '/mcp/ws'],
    aliases: { '/messages': '/sse', '/mcp/messages': '/mcp/sse' },
  })
  const { auth, audit } = buildAuth(config, stores, registry, metrics, addresses, { publicUrl: () => publicUrl, resources }, stack)

  registerBuiltinTools(registry, { audit })
  if (config.fixtures === 'conformance') registerConformanceFixtures(registry)
  // Code retrieval: the index, its tools, prompt and resources. Changes reach subscribers once `core` exists.
  const codeIndex = await startCodeIndex({ config: config.index, dataDir: config.dataDir, registry, resourceUpdated: (uri) => core.resourceUpdated(uri) })
  stack.defer(() => codeIndex.close())

  const core = new McpServer({
    info: { name: SERVER_NAME, version: SERVER_VERSION, title: 'mcprag' },
    instructions: 'mcprag serves code-retrieval tools over MCP.',
    registry,
    sessions: stores.sessions,
    streams: stores.streams,
    bus: stores.bus,
    instanceId,
    cursorSecret: config.secret,
    pageSize: config.pageSize,
    clientRequestTimeoutMs: config.clientRequestTimeoutMs,
    access: auth?.policy,
    observers: [audit, metrics],
    onSessionDenied: ({ principal, transport, reason }) =>
      audit.refusal({ kind: 'session_denied', outcome: 'denied', userId: principal.id, email: principal.email, tier: principal.tier, transport, detail: `a session of ${reason.replaceAll('_', ' ')}` }),
    sessionLimits: { perOwner: config.sessionLimits.perUser, perAddress: config.sessionLimits.perAddress },
    maxClientInfoBytes: config.maxClientInfoBytes,
    onSessionsEvicted: (n) => metrics.sessionsEvicted(n),
  })
  await core.start()
  stack.defer(() => core.close())

  // A revoked auth session (logout, an operator's revocation) takes its MCP sessions with it.
  const revoked = (id: string) => {
    auth?.sessions.invalidate()
    core.endAuthSession(id).catch((err) => console.error('[auth] ending the MCP sessions of a revoked auth session failed:', err))
  }
  const revocations = new RevocationWatcher({ bus: stores.bus, isActive: auth && ((id) => auth.sessions.isActive(id)), onRevoked: auth && revoked })
  // Without auth there is nothing to revoke (and no bus topic to hold).
  if (auth) await revocations.start()
  stack.defer(() => revocations.close())
  if (config.fixtures === 'conformance') stack.defer(watchConformanceResource(core))

  const guard = new HttpGuard({
    allowedHosts: config.allowedHosts,
    allowedOrigins: config.allowedOrigins,
    refused: (request, kind, detail) => audit.refusal({ kind, outcome: 'denied', detail, clientAddress: addresses.of(request) }),
  })
  const transports = buildTransports(
    config,
    {
      core,
      streams: stores.streams,
      guard,
      revocations,
      keepAliveMs: config.keepAliveMs,
      json: config.json,
      addressOf: (r) => addresses.of(r),
      streamLimits: new StreamLimits(config.streamLimits),
      requestBudget: auth?.requestBudget,
      refused: ({ kind, principal: p, clientAddress, transport, detail }) =>
        audit.refusal({ kind, outcome: 'denied', userId: p?.id, email: p?.email, tier: p?.tier, transport, detail, clientAddress }),
      authenticate: noAuthentication,
    },
    auth,
    metrics,
  )
  const app = buildApp(config, { core, registry, guard, auth, metrics, stores, transports, resources, isDraining: () => draining, startedAt })
  // A loopback development server with no users yet prints a one-time link that makes the first admin.
  const firstAdmin = auth && /^(127\.|localhost$|::1$|\[::1\]$)/.test(config.host) ? new FirstAdmin(auth, guard) : undefined
  if (firstAdmin) app.use(firstAdmin.routes())
  app.listen({
    port: config.port,
    hostname: config.host,
    maxRequestBodySize: Math.max(config.json.maxBytes * 2, 1 << 20),
    idleTimeout: config.httpIdleTimeoutS,
    websocket: transports.websocket.serverOptions(),
  })
  const server = app.server!
  // Stops listening and closes every connection, before anything the requests use is closed.
  stack.defer(async () => void (await app.stop(true)))
  // Unwinds before the line above: 2026-07-28 listen streams get their closing result while open.
  stack.defer(() => core.subscriptions.endAll())
  // Rate limits and audit records ask the server for a request's peer address when they need it.
  addresses.attach(server)
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `http://${hostForUrl}:${server.port}`
  if (!publicUrl) publicUrl = url
  // The docs page's "Try it out" fetches from the page's own origin: allow exactly that one (on
  // loopback, under each loopback name: they are this server's own origin, any other port is not).
  guard.allowOrigin(url)
  guard.allowOrigin(publicUrl)
  if (LOOPBACK_NAMES.includes(hostForUrl)) for (const name of LOOPBACK_NAMES) guard.allowOrigin(`http://${name}:${server.port}`)
  schedulePurge(stores, config.auditRetentionMs, stack)

  let stopping: Promise<void> | undefined
  const shutdown = async () => {
    draining = true
    // Load balancers see /ready fail and stop sending new work; meanwhile everything is served.
    if (config.drainDelayMs > 0) await Bun.sleep(config.drainDelayMs)
    // In-flight work finishes: requests being answered, and MCP requests on any transport (a tool
    // call on a stream or WebSocket has no HTTP request in flight).
    const idle = () => metrics.requestsInFlight === 0 && core.inFlight === 0
    if (!(await waitFor(idle, config.shutdownGraceMs)))
      console.warn(`[shutdown] ${metrics.requestsInFlight} HTTP and ${core.inFlight} MCP request(s) still running after ${config.shutdownGraceMs / 1000} s (MCPRAG_SHUTDOWN_GRACE_S): closing them`)
    await stack.disposeAsync()
  }
  return {
    url,
    port: server.port!,
    instanceId,
    core,
    registry,
    stores,
    auth,
    firstRunLink: firstAdmin && (() => firstAdmin.link()),
    codeIndex,
    stop() {
      stopping ??= shutdown()
      return stopping
    },
  }
}

/** The audit log always (tool calls are recorded with auth off too); the auth services when auth is on. */
function buildAuth(
  config: Config,
  stores: Stores,
  registry: Registry,
  metrics: ServerMetrics,
  addresses: ClientAddresses,
  where: { publicUrl: () => string; resources: Resources },
  stack: AsyncDisposableStack,
): { auth?: Auth; audit: AuditLog } {
  const audit = new AuditLog({
    store: stores.auth.audit,
    now: Date.now,
    // One write per batch of records (a line each), not one per record.
    writeLines: config.auditStdout ? (lines) => console.log(lines.join('\n')) : undefined,
    tierOf: (name) => registry.getTool(name)?.tier,
    onRecord: (record) => metrics.onAuditRecord(record),
    aggregateMs: config.auditAggregateMs,
  })
  // Queued records are written before the stores close (they were opened, so close, first).
  stack.defer(() => audit.close())
  if (!config.auth) return { audit }
  const mailer = config.auth.smtpUrl ? new SmtpMailer(config.auth.smtpUrl, config.auth.mailFrom) : new ConsoleMailer()
  stack.defer(() => mailer.close())
  const auth = createAuth({
    settings: config.auth,
    stores: stores.auth,
    requestCounters: stores.requestCounters,
    mailer,
    audit,
    publicUrl: where.publicUrl,
    resources: where.resources,
    addressOf: (request) => addresses.of(request),
    publishRevoked: (ids) => RevocationWatcher.publish(stores.bus, ids),
  })
  stack.defer(() => auth.login.flush())
  return { auth, audit }
}

interface Transports {
  streamable: StreamableHttpTransport
  legacySse: LegacySseTransport
  websocket: WebSocketTransport
  /** Sessions with a connection on this instance, per transport (metrics). */
  sessions(): Partial<Record<TransportKind, number>>
  /** Open SSE responses and WebSockets on this instance, per transport (metrics). */
  streams(): Partial<Record<TransportKind, number>>
}

function buildTransports(config: Config, shared: TransportDeps, auth: Auth | undefined, metrics: ServerMetrics): Transports {
  const { guard } = shared
  // Every transport and REST route authenticates through this one hook (bearer token, or nobody when auth is off).
  const authenticate = auth ? mcpAuthenticate(auth.bearer, auth.resourceMetadataFor, (r) => guard.cors(r)) : noAuthentication
  const deps: TransportDeps = { ...shared, authenticate }
  const streamable = new StreamableHttpTransport({
    ...deps,
    path: '/mcp',
    sseRetryMs: config.sseRetryMs,
    sseMaxBufferedBytes: config.sseMaxBufferedBytes,
    maxBatchItems: config.maxBatchItems,
    stateless: config.stateless,
    meter: metrics,
  })
  const legacySse = new LegacySseTransport({ ...deps, mounts: legacyMounts, sseRetryMs: config.sseRetryMs, sseMaxBufferedBytes: config.sseMaxBufferedBytes })
  const websocket = new WebSocketTransport({
    ...deps,
    path: '/mcp/ws',
    // The upgrade alone also takes a single-use ticket in its URL (browsers cannot set headers there).
    authenticate: auth ? mcpAuthenticate(auth.bearer, auth.resourceMetadataFor, (r) => guard.cors(r), { webSocketTicket: true }) : noAuthentication,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    idleTimeoutS: config.wsIdleTimeoutS,
    maxWaitingBytes: config.wsMaxWaitingBytes,
    meter: metrics,
  })
  return {
    streamable,
    legacySse,
    websocket,
    sessions: () => ({ 'streamable-http': streamable.heldSessions, sse: legacySse.openStreams, websocket: websocket.openSessions }),
    streams: () => ({ 'streamable-http': streamable.openStreams, sse: legacySse.openStreams, websocket: websocket.openSockets }),
  }
}

interface AppParts {
  core: McpServer
  registry: Registry
  guard: HttpGuard
  auth?: Auth
  metrics: ServerMetrics
  stores: Stores
  transports: Transports
  resources: Resources
  isDraining(): boolean
  startedAt: number
}

function buildApp(config: Config, p: AppParts) {
  const { auth, guard, transports } = p
  // Streamable HTTP's POST/GET/DELETE and the WebSocket upgrade are Bun-native routes: the hot
  // path skips the framework's per-request context and hooks (measured in BENCHMARKS.md).
  const nativeRoutes = { ...transports.streamable.routes(), ...transports.websocket.routes() }
  // Streams must outlive Bun's idle timeout; keep-alive comments keep proxies from cutting them.
  const disableIdleTimeout = (request: Request, server: { timeout(request: Request, seconds: number): void } | null) => server?.timeout(request, 0)
  const app = new Elysia({ serve: { routes: nativeRoutes as Record<string, never> } })
    .onError(({ code, error }) => {
      if (code === 'NOT_FOUND') return restError(404, 'not_found', 'No such route')
      if (error instanceof StoreUnavailable)
        return restError(503, 'unavailable', `${error.message}; retry in ${STORE_RETRY_AFTER_S} s`, {}, { 'retry-after': String(STORE_RETRY_AFTER_S) })
      console.error('[http] unhandled error:', error)
      return restError(500, 'internal_error', 'Internal server error')
    })
    // First, so its request hooks time every route.
    .use(metricsRoutes({ metrics: p.metrics, token: config.metricsToken }))
    .use(healthRoutes({ version: SERVER_VERSION, startedAt: p.startedAt }))
    .use(readinessRoutes({ checks: p.stores.checks, isDraining: p.isDraining, timeoutMs: READY_CHECK_TIMEOUT_MS }))
    .use(openApiRoutes({ registry: p.registry, version: SERVER_VERSION, authRequired: auth !== undefined, mcpPaths: [...transportRoutes.keys()] }))
    .use(toolRoutes({
      core: p.core,
      access: auth?.policy ?? allowAll,
      guard,
      authenticate: auth ? (r) => restAuthenticate(auth, r, guard) : async () => ANONYMOUS,
      unauthenticated: (r) =>
        authErrorResponse(
          new AuthError(401, 'invalid_token', 'The session has ended: sign in again with POST /auth/login', { tokenPresented: true }),
          auth?.resourceMetadataFor(r) ?? '',
          guard.cors(r),
        ),
      json: config.json,
      authRequired: auth !== undefined,
    }))
    .use(transports.streamable.plugin())
    .use(transports.legacySse.plugin(disableIdleTimeout))
  if (auth) app.use(wellKnownRoutes(p.resources)).use(authRoutes({ auth, guard }))
  if (auth) app.use(oauthRoutes({ auth, stores: p.stores.oauth, resources: p.resources, guard, settings: config.auth!.oauth }))
  return app
}

/**
 * Drop expired identity records, and audit records past their retention, at boot and then hourly,
 * in bounded batches (a large backlog never blocks).
 */
function schedulePurge(stores: Stores, auditRetentionMs: number, stack: AsyncDisposableStack): void {
  const purge = async () => {
    try {
      while ((await stores.auth.purgeExpired(Date.now(), PURGE_BATCH)) === PURGE_BATCH) await Bun.sleep(0)
      await stores.oauth.purgeExpired(Date.now())
      while ((await stores.auth.audit.purgeBefore(Date.now() - auditRetentionMs, PURGE_BATCH)) === PURGE_BATCH) await Bun.sleep(0)
    } catch (err) {
      console.error('[auth] purge failed:', err)
    }
  }
  void purge()
  const timer = setInterval(() => void purge(), PURGE_EVERY_MS)
  timer.unref?.()
  stack.defer(() => clearInterval(timer))
}

/** Poll until `condition` holds (true) or `timeoutMs` passes (false). */
async function waitFor(condition: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() >= deadline) return false
    await Bun.sleep(10)
  }
  return true
}

/** Bearer authentication for the REST routes: refusals as `{error, message}` bodies. */
async function restAuthenticate(auth: Auth, request: Request, guard: HttpGuard): Promise<Principal | Response> {
  const result = await auth.bearer.authenticate(request)
  return result instanceof AuthError ? authErrorResponse(result, auth.resourceMetadataFor(request), guard.cors(request)) : result
}
