/**
 * @module server
 * The composition root: the only file that picks implementations (bus, stores) and mounts the
 * transports and routes. Everything else receives its collaborators as arguments.
 */
import { Elysia } from 'elysia'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { AuditLog } from './auth/audit.ts'
import { createAuth, type Auth } from './auth/auth.ts'
import { mcpAuthenticate } from './auth/bearer.ts'
import { AuthError } from './auth/errors.ts'
import type { Bus } from './bus/bus.ts'
import { MemoryBus } from './bus/memory-bus.ts'
import type { Config } from './config.ts'
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
import { authErrorResponse, restError } from './http/rest.ts'
import { toolRoutes } from './http/tool-routes.ts'
import { wellKnownRoutes } from './http/well-known.ts'
import { ConsoleMailer } from './mail/console-mailer.ts'
import { SmtpMailer } from './mail/smtp-mailer.ts'
import { ServerMetrics } from './metrics/server-metrics.ts'
import type { AuthStore } from './store/auth-store.ts'
import { MemoryAuthStore } from './store/memory-auth-store.ts'
import { MemoryEventLog } from './store/memory-event-log.ts'
import { MemorySessionStore } from './store/memory-session-store.ts'
import type { SessionStore } from './store/session-store.ts'
import { SqliteAuthStore } from './store/sqlite-auth-store.ts'
import { registerBuiltinTools } from './tools/builtin.ts'
import { startCodeIndex, type CodeIndexService } from './rag/code-index-service.ts'
import { ANONYMOUS, noAuthentication } from './transports/authenticate.ts'
import { ClientAddresses } from './transports/client-address.ts'
import { HttpGuard } from './transports/http-guard.ts'
import { LegacySseTransport } from './transports/legacy-sse.ts'
import { RevocationWatcher } from './transports/revocation-watcher.ts'
import { SessionOutbox } from './transports/session-outbox.ts'
import { StreamHub, standaloneStreamId } from './transports/stream-hub.ts'
import { StreamableHttpTransport } from './transports/streamable-http.ts'
import type { TransportDeps } from './transports/transport-deps.ts'
import { WebSocketTransport } from './transports/websocket.ts'
import { SERVER_NAME, SERVER_VERSION } from './version.ts'

export interface RunningServer {
  /** Base URL, e.g. http://127.0.0.1:3000 */
  url: string
  port: number
  core: McpServer
  registry: Registry
  /** Exposed so tests can check that closed connections release their sessions and subscriptions. */
  sessions: SessionStore
  bus: Bus
  /** The auth services; undefined when `MCPRAG_AUTH=off`. */
  auth?: Auth
  /** The code index and its tools (`MCPRAG_INDEX_ROOTS`). */
  codeIndex: CodeIndexService
  /**
   * Drain, then stop: `/ready` answers 503 at once, requests keep being served for
   * `drainDelayMs`, in-flight work gets up to `shutdownGraceMs` to finish, then everything closes.
   */
  stop(): Promise<void>
}

type BunServerLike = { timeout(request: Request, seconds: number): void } | null

/** A readiness check slower than this fails: a probe must answer within its own timeout. */
const READY_CHECK_TIMEOUT_MS = 2000

/** Build every part, start listening, and return a handle that can stop it all. */
export async function startServer(config: Config): Promise<RunningServer> {
  const startedAt = Date.now()
  const instanceId = crypto.randomUUID().slice(0, 8)
  const bus = new MemoryBus()
  const log = new MemoryEventLog({ retentionMs: config.streamRetentionMs })
  const hub = new StreamHub(log, bus)
  const outbox = new SessionOutbox(hub, bus)
  const registry = new Registry()
  // Shutdown sets it: /ready answers 503 from then on while in-flight work finishes.
  let draining = false
  // The gauges are read at scrape time from parts built below.
  const metrics: ServerMetrics = new ServerMetrics({
    version: SERVER_VERSION,
    transportOf: (route) => transportRoutes.get(route),
    sessions: () => sessions.countByTransport(),
    streams: () => ({ 'streamable-http': streamable.openStreams, sse: legacySse.openStreams, websocket: websocket.openSockets }),
    draining: () => draining,
  })

  // Identity: a SQLite store when auth is on; with auth off nothing needs to outlive the process.
  let publicUrl = config.auth?.publicUrl ?? ''
  if (config.auth) mkdirSync(config.dataDir, { recursive: true, mode: 0o700 })
  const authStore: AuthStore = config.auth ? new SqliteAuthStore(join(config.dataDir, 'mcprag.db')) : new MemoryAuthStore()
  const audit = new AuditLog({
    store: authStore,
    now: Date.now,
    // One write per batch of records (a line each), not one per record.
    writeLines: config.auditStdout ? (lines) => console.log(lines.join('\n')) : undefined,
    tierOf: (name) => registry.getTool(name)?.tier,
    onRecord: (record) => metrics.onAuditRecord(record),
  })
  const addresses = new ClientAddresses(config.auth?.trustedProxies ?? 0)
  const mailer = config.auth?.smtpUrl ? new SmtpMailer(config.auth.smtpUrl, config.auth.mailFrom) : new ConsoleMailer()
  const auth = config.auth
    ? createAuth({
        settings: config.auth,
        store: authStore,
        mailer,
        audit,
        publicUrl: () => publicUrl,
        addressOf: (request) => addresses.of(request),
        publishRevoked: (ids) => RevocationWatcher.publish(bus, ids),
      })
    : undefined
  const revocations = new RevocationWatcher({ bus, isActive: auth && ((id) => auth.sessions.isActive(id)), onRevoked: auth && (() => auth.sessions.invalidate()) })
  // Without auth there is nothing to revoke (and no bus topic to hold).
  if (auth) await revocations.start()
  registerBuiltinTools(registry, { audit })
  if (config.fixtures === 'conformance') registerConformanceFixtures(registry)
  // Code retrieval: the index, its tools, prompt and resources. Changes reach subscribers once `core` exists.
  const codeIndex = await startCodeIndex({ config: config.index, dataDir: config.dataDir, registry, resourceUpdated: (uri) => core.resourceUpdated(uri) })

  // The store calls back when a session idles out; `core` exists before any session does.
  const sessions = new MemorySessionStore({
    ttlMs: config.sessionTtlMs,
    onExpire: (id) => {
      void hub.end(standaloneStreamId(id)).then(() => log.dropSession(id))
      void core.endSession(id)
    },
  })
  const core: McpServer = new McpServer({
    info: { name: SERVER_NAME, version: SERVER_VERSION, title: 'mcprag' },
    instructions: 'mcprag serves code-retrieval tools over MCP.',
    registry,
    sessions,
    bus,
    outbox,
    instanceId,
    cursorSecret: config.secret,
    pageSize: config.pageSize,
    clientRequestTimeoutMs: config.clientRequestTimeoutMs,
    access: auth?.policy,
    observers: [audit, metrics],
  })
  await core.start()
  await outbox.start()

  const guard = new HttpGuard({ allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins })
  // Every transport and REST route authenticates through this one hook (bearer token, or nobody when auth is off).
  const authenticate = auth ? mcpAuthenticate(auth.bearer, auth.resourceMetadataUrl, (r) => guard.cors(r)) : noAuthentication
  // The WebSocket upgrade alone also takes a single-use ticket in its URL (browsers cannot set headers there).
  const authenticateUpgrade = auth ? mcpAuthenticate(auth.bearer, auth.resourceMetadataUrl, (r) => guard.cors(r), { webSocketTicket: true }) : noAuthentication
  const legacyMounts = [
    // `/sse` is where legacy clients look; `/mcp/sse` is also the REST API's event stream.
    { stream: '/sse', messages: '/messages' },
    { stream: '/mcp/sse', messages: '/mcp/messages' },
  ]
  // The MCP transports' routes: metrics label them by transport, and the REST docs leave them out.
  const transportRoutes = new Map<string, TransportKind>([
    ['/mcp', 'streamable-http'],
    ...legacyMounts.flatMap(({ stream, messages }) => [[stream, 'sse'], [messages, 'sse']] as [string, TransportKind][]),
    ['/mcp/ws', 'websocket'],
  ])
  // What all three transports are built from; each adds its own settings.
  const transportDeps: TransportDeps = { core, sessions, hub, outbox, guard, authenticate, keepAliveMs: config.keepAliveMs, revocations }
  const streamable = new StreamableHttpTransport({
    ...transportDeps,
    path: '/mcp',
    maxBodyBytes: config.maxBodyBytes,
    sseRetryMs: config.sseRetryMs,
    stateless: config.stateless,
    meter: metrics,
  })
  const legacySse = new LegacySseTransport({
    ...transportDeps,
    mounts: legacyMounts,
    maxBodyBytes: config.maxBodyBytes,
    sseRetryMs: config.sseRetryMs,
  })
  const websocket = new WebSocketTransport({
    ...transportDeps,
    path: '/mcp/ws',
    // Overrides the shared hook: the upgrade alone also takes a ticket (see above).
    authenticate: authenticateUpgrade,
    maxMessageBytes: config.maxBodyBytes,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    idleTimeoutS: config.wsIdleTimeoutS,
    meter: metrics,
  })
  // Streams must outlive Bun's idle timeout; keep-alive comments keep proxies from cutting them.
  const disableIdleTimeout = (request: Request, server: BunServerLike) => server?.timeout(request, 0)

  // Streamable HTTP's POST/GET/DELETE are Bun-native routes: the hot path skips the framework's
  // per-request context and hooks (measured in BENCHMARKS.md); everything else is Elysia.
  const app = new Elysia({ serve: { routes: { ...streamable.routes(), ...websocket.routes() } as Record<string, never> } })
    .onError(({ code, error }) => {
      if (code === 'NOT_FOUND') return jsonResponse(404, { error: 'not_found', message: 'No such route' })
      console.error('[http] unhandled error:', error)
      return jsonResponse(500, { error: 'internal_error', message: 'Internal server error' })
    })
    // First, so its request hooks time every route.
    .use(metricsRoutes({ metrics, token: config.metricsToken }))
    .use(healthRoutes({ version: SERVER_VERSION, startedAt }))
    .use(readinessRoutes({ checks: [{ name: 'auth_store', run: () => authStore.ping() }], isDraining: () => draining, timeoutMs: READY_CHECK_TIMEOUT_MS }))
    .use(openApiRoutes({ registry, version: SERVER_VERSION, authRequired: auth !== undefined, mcpPaths: [...transportRoutes.keys()] }))
    .use(toolRoutes({
      core,
      access: auth?.policy ?? allowAll,
      guard,
      authenticate: auth ? (r) => restAuthenticate(auth, r, guard) : async () => ANONYMOUS,
      unauthenticated: (r) => restError(401, 'invalid_token', 'The session has ended: sign in again with POST /auth/login', {}, {
        ...guard.cors(r),
        'www-authenticate': `Bearer resource_metadata="${auth?.resourceMetadataUrl() ?? ''}", error="invalid_token"`,
      }),
      maxBodyBytes: config.maxBodyBytes,
      authRequired: auth !== undefined,
    }))
    .use(streamable.plugin())
    .use(legacySse.plugin(disableIdleTimeout))
  if (auth) app.use(wellKnownRoutes(() => publicUrl)).use(authRoutes({ auth, guard }))
  app
    .listen({
      port: config.port,
      hostname: config.host,
      maxRequestBodySize: Math.max(config.maxBodyBytes * 2, 1 << 20),
      idleTimeout: config.httpIdleTimeoutS,
      websocket: websocket.serverOptions(),
    })

  const stopWatch = config.fixtures === 'conformance' ? watchConformanceResource(core) : () => {}
  const server = app.server!
  // Rate limits and audit records ask the server for a request's peer address when they need it.
  addresses.attach(server)
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `http://${hostForUrl}:${server.port}`
  if (!publicUrl) publicUrl = url
  // The docs page's "Try it out" fetches from the page's own origin: allow exactly that one.
  guard.allowOrigin(url)
  guard.allowOrigin(publicUrl)
  // Expired login tokens, sessions and counters are dropped at boot and then hourly.
  const purgeExpired = () => void authStore.purgeExpired(Date.now()).catch((err) => console.error('[auth] purge failed:', err))
  purgeExpired()
  const purge = setInterval(purgeExpired, 3_600_000)
  purge.unref?.()
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
    stopWatch()
    codeIndex.close()
    clearInterval(purge)
    revocations.close()
    await app.stop(true)
    await core.close()
    outbox.close()
    await sessions.close()
    await log.close()
    await bus.close()
    await auth?.login.flush()
    await mailer.close()
    // Queued audit records are written before the store closes.
    await audit.close()
    await authStore.close()
  }
  return {
    url,
    port: server.port!,
    core,
    registry,
    sessions,
    bus,
    auth,
    codeIndex,
    stop() {
      stopping ??= shutdown()
      return stopping
    },
  }
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

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

/** Bearer authentication for the REST routes: refusals as `{error, message}` bodies. */
async function restAuthenticate(auth: Auth, request: Request, guard: HttpGuard): Promise<Principal | Response> {
  const result = await auth.bearer.authenticate(request)
  return result instanceof AuthError ? authErrorResponse(result, auth.resourceMetadataUrl(), guard.cors(request)) : result
}
