/**
 * @module config
 * The only place that reads the environment. Every variable is parsed and checked here; all
 * problems are collected and reported together, before the server listens.
 */
export interface Config {
  port: number
  host: string
  /** Host header values accepted (hostname only, any port). `*` accepts any. */
  allowedHosts: string[]
  /** Origin patterns accepted, e.g. `http://localhost:*` or `https://app.example.com`. */
  allowedOrigins: string[]
  fixtures: 'none' | 'conformance'
  maxBodyBytes: number
  sessionTtlMs: number
  keepAliveMs: number
  /** SSE `retry:` hint sent with priming events. */
  sseRetryMs: number
  clientRequestTimeoutMs: number
  pageSize: number
  /** Signs pagination cursors; instances sharing sessions must share it. */
  secret: string
  /** True when `secret` was generated at boot rather than configured. */
  secretGenerated: boolean
  /** How long an ended stream's events stay available for resumption. */
  streamRetentionMs: number
  /** Bytes a WebSocket may queue for a client that does not read before it is closed. */
  wsMaxBufferedBytes: number
  /** Seconds a WebSocket may stay silent before the server pings it (a client that does not pong is dropped). */
  wsIdleTimeoutS: number
  logRequests: boolean
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
    this.name = 'ConfigError'
  }
}

type Env = Record<string, string | undefined>

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]']

export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = []
  const int = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return def
    const n = Number(raw)
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name}="${raw}" is invalid: set an integer between ${min} and ${max} (default ${def})`)
      return def
    }
    return n
  }
  const list = (name: string, def: string[]): string[] => {
    const raw = env[name]
    if (raw === undefined || raw.trim() === '') return def
    return raw.split(',').map((s) => s.trim()).filter(Boolean)
  }

  const port = int('PORT', 3000, 0, 65535)
  const host = env.HOST?.trim() || '127.0.0.1'
  const bindsWildcard = host === '0.0.0.0' || host === '::'
  const hostName = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host
  const defaultHosts = bindsWildcard || LOOPBACK_HOSTS.includes(hostName) ? LOOPBACK_HOSTS : [...LOOPBACK_HOSTS, hostName]
  const allowedHosts = list('MCPRAG_ALLOWED_HOSTS', defaultHosts).map((h) => h.toLowerCase())
  const allowedOrigins = list('MCPRAG_ALLOWED_ORIGINS', ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'])
  for (const o of allowedOrigins) {
    if (o === '*') continue
    if (!/^https?:\/\/[^/]+$/.test(o))
      problems.push(`MCPRAG_ALLOWED_ORIGINS entry "${o}" is invalid: use scheme://host[:port|:*] such as https://app.example.com or http://localhost:*`)
  }

  const fixturesRaw = env.MCPRAG_FIXTURES?.trim() || 'none'
  let fixtures: Config['fixtures'] = 'none'
  if (fixturesRaw === 'none' || fixturesRaw === 'conformance') fixtures = fixturesRaw
  else problems.push(`MCPRAG_FIXTURES="${fixturesRaw}" is invalid: set "conformance" to register the conformance-suite fixtures, or leave it unset`)

  let secret = env.MCPRAG_SECRET ?? ''
  const secretGenerated = secret === ''
  if (secretGenerated) secret = crypto.randomUUID() + crypto.randomUUID()
  else if (secret.length < 32) problems.push('MCPRAG_SECRET is too short: set at least 32 random characters (e.g. `openssl rand -hex 32`)')

  const config: Config = {
    port,
    host,
    allowedHosts,
    allowedOrigins,
    fixtures,
    maxBodyBytes: int('MCPRAG_MAX_BODY_BYTES', 4 * 1024 * 1024, 1024, 100 * 1024 * 1024),
    sessionTtlMs: int('MCPRAG_SESSION_TTL_S', 3600, 10, 7 * 24 * 3600) * 1000,
    keepAliveMs: int('MCPRAG_KEEPALIVE_MS', 15_000, 100, 120_000),
    sseRetryMs: int('MCPRAG_SSE_RETRY_MS', 1000, 0, 60_000),
    clientRequestTimeoutMs: int('MCPRAG_CLIENT_REQUEST_TIMEOUT_MS', 60_000, 100, 3_600_000),
    pageSize: int('MCPRAG_PAGE_SIZE', 100, 1, 1000),
    secret,
    secretGenerated,
    streamRetentionMs: int('MCPRAG_STREAM_RETENTION_S', 300, 1, 86_400) * 1000,
    wsMaxBufferedBytes: int('MCPRAG_WS_MAX_BUFFERED_BYTES', 8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    wsIdleTimeoutS: int('MCPRAG_WS_IDLE_TIMEOUT_S', 120, 8, 960),
    logRequests: env.MCPRAG_LOG_REQUESTS === '1',
  }
  if (problems.length) throw new ConfigError(problems)
  return Object.freeze(config)
}
