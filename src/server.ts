/**
 * @module server
 * The composition root: the only file that picks implementations (bus, stores) and mounts the
 * transports and routes. Everything else receives its collaborators as arguments.
 */
import { Elysia } from 'elysia'
import type { Bus } from './bus/bus.ts'
import { MemoryBus } from './bus/memory-bus.ts'
import type { Config } from './config.ts'
import { McpServer } from './core/mcp-server.ts'
import { Registry } from './core/registry.ts'
import { registerConformanceFixtures, watchConformanceResource } from './fixtures/conformance.ts'
import { healthRoutes } from './http/health.ts'
import { MemoryEventLog } from './store/memory-event-log.ts'
import { MemorySessionStore } from './store/memory-session-store.ts'
import type { SessionStore } from './store/session-store.ts'
import { registerBuiltinTools } from './tools/builtin.ts'
import { noAuthentication } from './transports/authenticate.ts'
import { HttpGuard } from './transports/http-guard.ts'
import { LegacySseTransport } from './transports/legacy-sse.ts'
import { SessionOutbox } from './transports/session-outbox.ts'
import { StreamHub, standaloneStreamId } from './transports/stream-hub.ts'
import { StreamableHttpTransport } from './transports/streamable-http.ts'
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
  stop(): Promise<void>
}

type BunServerLike = { timeout(request: Request, seconds: number): void } | null

/** Build every part, start listening, and return a handle that can stop it all. */
export async function startServer(config: Config): Promise<RunningServer> {
  const startedAt = Date.now()
  const instanceId = crypto.randomUUID().slice(0, 8)
  const bus = new MemoryBus()
  const log = new MemoryEventLog({ retentionMs: config.streamRetentionMs })
  const hub = new StreamHub(log, bus)
  const outbox = new SessionOutbox(hub, bus)
  const registry = new Registry()
  registerBuiltinTools(registry)
  if (config.fixtures === 'conformance') registerConformanceFixtures(registry)

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
  })
  await core.start()
  await outbox.start()

  const guard = new HttpGuard({ allowedHosts: config.allowedHosts, allowedOrigins: config.allowedOrigins })
  const streamable = new StreamableHttpTransport({
    path: '/mcp',
    core,
    sessions,
    hub,
    outbox,
    guard,
    authenticate: noAuthentication,
    maxBodyBytes: config.maxBodyBytes,
    keepAliveMs: config.keepAliveMs,
    sseRetryMs: config.sseRetryMs,
  })
  const legacySse = new LegacySseTransport({
    // `/sse` is where legacy clients look; `/mcp/sse` is also the REST API's event stream.
    mounts: [
      { stream: '/sse', messages: '/messages' },
      { stream: '/mcp/sse', messages: '/mcp/messages' },
    ],
    core,
    sessions,
    hub,
    outbox,
    guard,
    authenticate: noAuthentication,
    maxBodyBytes: config.maxBodyBytes,
    keepAliveMs: config.keepAliveMs,
    sseRetryMs: config.sseRetryMs,
  })
  const websocket = new WebSocketTransport({
    path: '/mcp/ws',
    core,
    sessions,
    hub,
    outbox,
    guard,
    authenticate: noAuthentication,
    maxMessageBytes: config.maxBodyBytes,
    maxBufferedBytes: config.wsMaxBufferedBytes,
    idleTimeoutS: config.wsIdleTimeoutS,
    keepAliveMs: config.keepAliveMs,
  })
  // Streams must outlive Bun's idle timeout; keep-alive comments keep proxies from cutting them.
  const disableIdleTimeout = (request: Request, server: BunServerLike) => server?.timeout(request, 0)

  const app = new Elysia()
    .onError(({ code, error }) => {
      if (code === 'NOT_FOUND') return jsonResponse(404, { error: 'not_found', message: 'No such route' })
      console.error('[http] unhandled error:', error)
      return jsonResponse(500, { error: 'internal_error', message: 'Internal server error' })
    })
    .use(healthRoutes({ version: SERVER_VERSION, startedAt }))
    .use(streamable.plugin(disableIdleTimeout))
    .use(legacySse.plugin(disableIdleTimeout))
    .use(websocket.plugin())
    .listen({
      port: config.port,
      hostname: config.host,
      maxRequestBodySize: Math.max(config.maxBodyBytes * 2, 1 << 20),
      websocket: websocket.serverOptions(),
    })

  const stopWatch = config.fixtures === 'conformance' ? watchConformanceResource(core) : () => {}
  const server = app.server!
  const hostForUrl = config.host.includes(':') ? `[${config.host}]` : config.host
  return {
    url: `http://${hostForUrl}:${server.port}`,
    port: server.port!,
    core,
    registry,
    sessions,
    bus,
    async stop() {
      stopWatch()
      await app.stop(true)
      await core.close()
      outbox.close()
      await sessions.close()
      await log.close()
      await bus.close()
    },
  }
}

function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}
