/**
 * Start a real server on a free loopback port for a test file, with conformance fixtures on and
 * authentication off (`MCPRAG_AUTH=off`). Pass `{ MCPRAG_AUTH: 'on' }` (or use `startAuthServer`)
 * for a server with authentication: it gets its own temporary data directory and keys, generous
 * rate limits unless the test sets its own, and no audit lines on stdout. Per-user and per-address
 * caps are generous too unless the test sets them.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.ts'
import { startServer, type RunningServer } from '../../src/server.ts'
import { REDIS_URL, deleteKeys } from './redis.ts'

export type TestServer = RunningServer & { mcpUrl: string; /** The auth data directory (auth on only). */ dataDir?: string }

/** A free loopback port (for servers that must know their URL before they listen). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

/**
 * With `redis`, the server keeps its shared state in the machine's Redis (`REDIS_URL`) under a key
 * prefix of its own (removed when it stops), as one instance of a cluster would.
 */
export async function startTestServer(env: Record<string, string> = {}, opts: { redis?: boolean } = {}): Promise<TestServer> {
  if (opts.redis) {
    const port = String(freePort())
    const prefix = `mcprag-test:server:${crypto.randomUUID().slice(0, 8)}:`
    env = {
      REDIS_URL,
      MCPRAG_REDIS_PREFIX: prefix,
      MCPRAG_SECRET: crypto.randomUUID() + crypto.randomUUID(),
      PORT: port,
      MCPRAG_PUBLIC_URL: `http://127.0.0.1:${port}`,
      ...env,
    }
    const server = await startTestServer(env)
    const stop = server.stop
    return Object.assign(server, {
      async stop() {
        await stop()
        await deleteKeys(prefix)
      },
    })
  }
  const authOn = env.MCPRAG_AUTH === 'on'
  const dataDir = authOn && !env.MCPRAG_DATA_DIR ? mkdtempSync(join(tmpdir(), 'mcprag-test-')) : undefined
  const authDefaults: Record<string, string> = authOn
    ? {
        MCPRAG_DATA_DIR: dataDir ?? '',
        MCPRAG_JWT_SECRET: crypto.randomUUID() + crypto.randomUUID(),
        MCPRAG_TOTP_KEY: crypto.randomUUID() + crypto.randomUUID(),
        MCPRAG_RATE_AUTH_ADDRESS: '10000/15m',
        MCPRAG_RATE_LOGIN_EMAIL: '100/15m',
        MCPRAG_RATE_LOGIN_MAILBOX: '1000/1h',
        MCPRAG_RATE_REQUESTS_ADDRESS: '100000/1m',
        MCPRAG_RATE_REGISTER_ADDRESS: '10000/1h',
      }
    : {}
  // Tests share one principal (or a few) and one address: the per-user and per-address caps are
  // tested where a test sets them, and out of the way elsewhere.
  const capDefaults: Record<string, string> = {
    MCPRAG_MAX_SESSIONS_PER_USER: '100000',
    MCPRAG_MAX_SESSIONS_PER_ADDRESS: '100000',
    MCPRAG_MAX_STREAMS_PER_USER: '100000',
    MCPRAG_MAX_STREAMS_PER_ADDRESS: '100000',
  }
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', MCPRAG_FIXTURES: 'conformance', MCPRAG_AUTH: 'off', MCPRAG_AUDIT_STDOUT: 'off', ...capDefaults, ...authDefaults, ...env })
  const server = await startServer(config)
  const stop = server.stop
  return Object.assign(server, {
    mcpUrl: `${server.url}/mcp`,
    dataDir: authOn ? config.dataDir : undefined,
    async stop() {
      await stop()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    },
  })
}

/** A server with authentication on and no conformance fixtures (the registry holds the built-in tools only). */
export function startAuthServer(env: Record<string, string> = {}): Promise<TestServer> {
  return startTestServer({ MCPRAG_AUTH: 'on', MCPRAG_FIXTURES: 'none', ...env })
}
