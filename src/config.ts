/**
 * @module config
 * The only place that reads the environment. Every variable is parsed and checked here; all
 * problems are collected and reported together, before the server listens.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { AuthSettings } from './auth/auth.ts'
import { emailProblem, normaliseEmail } from './auth/email.ts'
import type { Limit } from './auth/rate-limit.ts'
import type { GithubSettings, OAuthSettings } from './oauth/context.ts'
import { DEFAULT_PARSER_WORKERS } from './rag/parser-pool.ts'
import { parseIndexRoots, type IndexConfig } from './rag/repo-config.ts'
import type { JsonLimits } from './transports/json-limits.ts'

/** Authentication settings; absent from `Config` when `MCPRAG_AUTH=off`. */
export interface AuthConfig extends AuthSettings {
  /** Base URL for emailed links, token `iss`/`aud` and resource metadata; unset = the listening URL. */
  publicUrl?: string
  smtpUrl?: string
  mailFrom: string
  /** Proxies in front that append to X-Forwarded-For (0: the header is ignored). */
  trustedProxies: number
  /** The OAuth 2.1 authorization server (always on with authentication). */
  oauth: OAuthSettings
  /** What boot should tell the operator (generated secrets). */
  notes: string[]
}
/** Several instances sharing state through Redis; absent when `REDIS_URL` is unset (one instance). */
export interface RedisConfig {
  url: string
  /** Put before every key and channel name (ACLs can scope the server to it). */
  prefix: string
  /** Deadline of one Redis command on the request path. */
  commandTimeoutMs: number
  /** How long Redis may be unreachable before `/ready` says so (a blip must not pull every instance). */
  readyGraceMs: number
  /** Audit records kept in Redis (approximately) before the oldest are trimmed. */
  auditMaxRecords: number
}

export interface Config {
  port: number
  host: string
  /** Host header values accepted (hostname only, any port). `*` accepts any. */
  allowedHosts: string[]
  /** Origin patterns accepted, e.g. `http://localhost:*` or `https://app.example.com`. */
  allowedOrigins: string[]
  fixtures: 'none' | 'conformance'
  /** What a JSON body or WebSocket frame may be (bytes, nesting, keys), checked before it is parsed. */
  json: JsonLimits
  /** Largest `capabilities` plus `clientInfo` of an `initialize` (as JSON) a session keeps. */
  maxClientInfoBytes: number
  /** Live MCP sessions per user and per client address (all instances); past either, the least recently used one ends. */
  sessionLimits: { perUser: number; perAddress: number }
  /** Repeated refusals (same kind, outcome, user and address) are written once per window, then as one count. */
  auditAggregateMs: number
  /** Audit records older than this are deleted (at boot, then hourly). */
  auditRetentionMs: number
  /** IPv6 clients are one client per network of this prefix length (budgets, limits, audit); 128 keeps whole addresses. */
  ipv6PrefixLength: number
  /** Open streams (GET and legacy SSE streams, WebSockets) per user and per client address on this instance; past either, 429. */
  streamLimits: { perUser: number; perAddress: number }
  /** JSON-RPC messages in one batch (sessions of protocol 2025-03-26). */
  maxBatchItems: number
  /** Bytes an SSE response may queue for a client that does not read; past it the stream is closed. */
  sseMaxBufferedBytes: number
  /** Bytes of events a session keeps for resumption (the newest event is always kept). */
  streamLogMaxBytes: number
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
  /** Bytes of one WebSocket client's messages that may wait to be handled. */
  wsMaxWaitingBytes: number
  /** Undefined when authentication is off (`MCPRAG_AUTH=off`, loopback only). */
  auth?: AuthConfig
  /** Where the auth database and generated development secrets live. */
  dataDir: string
  /** Write each audit record as a JSON line on stdout. */
  auditStdout: boolean
  /** Bearer token `/metrics` requires; undefined leaves it open. */
  metricsToken?: string
  /** Streamable HTTP without sessions (like the SDK's stateless mode). */
  stateless: boolean
  /** Shared state in Redis; undefined runs one instance on embedded stores. */
  redis?: RedisConfig
  /** How long an instance trusts a cached session (MCP or auth) without a change notice (Redis only). */
  sessionCacheMs: number
  /** Seconds an HTTP connection may stay silent before Bun closes it (streams are exempt). */
  httpIdleTimeoutS: number
  /** How long shutdown keeps serving, with `/ready` at 503, before it stops taking requests. */
  drainDelayMs: number
  /** The most shutdown waits for in-flight requests to finish before it closes everything. */
  shutdownGraceMs: number
  /** The code index (`MCPRAG_INDEX_*`); `repos` is empty when nothing is to be indexed. */
  index: IndexConfig
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
  // Without authentication every caller is an admin: no page of another local web app (any
  // localhost port) may call in, only the server's own origin (added once it listens).
  const authOff = ['off', '0', 'false'].includes(env.MCPRAG_AUTH?.trim().toLowerCase() ?? '')
  const allowedOrigins = list('MCPRAG_ALLOWED_ORIGINS', authOff ? [] : ['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*'])
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

  const dataDir = env.MCPRAG_DATA_DIR?.trim() || './data'
  const redis = loadRedisConfig(env, problems, int)
  const auth = loadAuthConfig(env, { problems, int, list, port, hostName, dataDir, allowedHosts, allowedOrigins, shared: redis !== undefined })
  // Cursors signed on one instance are read on another: they must share the key.
  if (redis && secretGenerated) problems.push('MCPRAG_SECRET is not set: with REDIS_URL every instance must sign cursors with the same key; set the same random value (at least 32 characters, e.g. `openssl rand -hex 32`) on every instance')

  const config: Config = {
    port,
    host,
    allowedHosts,
    allowedOrigins,
    fixtures,
    json: {
      // 1 MiB: the largest argument a built-in tool takes (echo: 100 000 characters, at most 600 KB
      // as escaped JSON) with room to spare, and what JSON.parse gets through in ~10 ms at worst.
      maxBytes: int('MCPRAG_MAX_BODY_BYTES', 1024 * 1024, 1024, 100 * 1024 * 1024),
      maxDepth: int('MCPRAG_MAX_JSON_DEPTH', 64, 8, 10_000),
      maxKeys: int('MCPRAG_MAX_JSON_KEYS', 4096, 16, 10_000_000),
    },
    maxClientInfoBytes: int('MCPRAG_MAX_CLIENT_INFO_BYTES', 16 * 1024, 512, 1024 * 1024),
    sessionLimits: { perUser: int('MCPRAG_MAX_SESSIONS_PER_USER', 32, 1, 1_000_000), perAddress: int('MCPRAG_MAX_SESSIONS_PER_ADDRESS', 256, 1, 1_000_000) },
    auditAggregateMs: int('MCPRAG_AUDIT_AGGREGATE_S', 60, 1, 3600) * 1000,
    auditRetentionMs: int('MCPRAG_AUDIT_RETENTION_DAYS', 90, 1, 36_500) * 86_400_000,
    ipv6PrefixLength: int('MCPRAG_IPV6_PREFIX_LENGTH', 64, 16, 128),
    streamLimits: { perUser: int('MCPRAG_MAX_STREAMS_PER_USER', 32, 1, 1_000_000), perAddress: int('MCPRAG_MAX_STREAMS_PER_ADDRESS', 128, 1, 1_000_000) },
    maxBatchItems: int('MCPRAG_MAX_BATCH_ITEMS', 100, 1, 10_000),
    sseMaxBufferedBytes: int('MCPRAG_SSE_MAX_BUFFERED_BYTES', 4 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    streamLogMaxBytes: int('MCPRAG_STREAM_LOG_MAX_BYTES', 1024 * 1024, 16 * 1024, 1024 * 1024 * 1024),
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
    wsMaxWaitingBytes: int('MCPRAG_WS_MAX_WAITING_BYTES', 8 * 1024 * 1024, 64 * 1024, 1024 * 1024 * 1024),
    auth,
    dataDir,
    auditStdout: onOff(env, 'MCPRAG_AUDIT_STDOUT', true, problems),
    metricsToken: metricsToken(env, problems),
    stateless: onOff(env, 'MCPRAG_STATELESS', false, problems),
    redis,
    sessionCacheMs: int('MCPRAG_SESSION_CACHE_MS', 5000, 0, 60_000),
    httpIdleTimeoutS: int('MCPRAG_HTTP_IDLE_TIMEOUT_S', 30, 6, 255),
    drainDelayMs: int('MCPRAG_DRAIN_DELAY_S', 0, 0, 300) * 1000,
    shutdownGraceMs: int('MCPRAG_SHUTDOWN_GRACE_S', 10, 0, 3600) * 1000,
    index: {
      repos: parseIndexRoots(env.MCPRAG_INDEX_ROOTS, problems),
      pollMs: int('MCPRAG_INDEX_POLL_S', 300, 0, 86_400) * 1000,
      watch: onOff(env, 'MCPRAG_INDEX_WATCH', true, problems),
      maxFileBytes: int('MCPRAG_INDEX_MAX_FILE_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
      workers: int('MCPRAG_INDEX_WORKERS', DEFAULT_PARSER_WORKERS, 1, 16),
    },
  }
  if (problems.length) throw new ConfigError(problems)
  return Object.freeze(config)
}

const isLoopback = (hostName: string) => LOOPBACK_HOSTS.includes(hostName) || /^127\.\d+\.\d+\.\d+$/.test(hostName)
/** Values seen in examples and tutorials: never accepted as keys. */
const PLACEHOLDER_SECRETS = /^(secret|changeme|change-me|my_secrets?|password|test|example)$/i

function loadRedisConfig(env: Env, problems: string[], int: (name: string, def: number, min: number, max: number) => number): RedisConfig | undefined {
  const url = env.REDIS_URL?.trim()
  if (!url) return undefined
  let parsed: URL | undefined
  try {
    parsed = new URL(url)
  } catch {
    // reported below
  }
  if (!parsed || !/^rediss?:$/.test(parsed.protocol) || !parsed.hostname || !/^(\/\d{0,2})?$/.test(parsed.pathname))
    problems.push('REDIS_URL is invalid: set redis://[user:password@]host:6379[/db] or rediss://… for TLS (db is a number)')
  const prefix = env.MCPRAG_REDIS_PREFIX?.trim() || 'mcprag:'
  if (!/^[\w.:-]{1,64}$/.test(prefix)) problems.push(`MCPRAG_REDIS_PREFIX="${prefix}" is invalid: use 1-64 letters, digits, '_', '.', ':' or '-' (default mcprag:)`)
  return {
    url,
    prefix,
    commandTimeoutMs: int('MCPRAG_REDIS_TIMEOUT_MS', 1000, 50, 30_000),
    readyGraceMs: int('MCPRAG_REDIS_READY_GRACE_S', 10, 0, 600) * 1000,
    auditMaxRecords: int('MCPRAG_AUDIT_MAX_RECORDS', 1_000_000, 1000, 100_000_000),
  }
}

function onOff(env: Env, name: string, def: boolean, problems: string[]): boolean {
  const raw = env[name]?.trim().toLowerCase()
  if (raw === undefined || raw === '') return def
  if (raw === 'on' || raw === '1' || raw === 'true') return true
  if (raw === 'off' || raw === '0' || raw === 'false') return false
  problems.push(`${name}="${env[name]}" is invalid: set "on" or "off"`)
  return def
}

function metricsToken(env: Env, problems: string[]): string | undefined {
  const token = env.MCPRAG_METRICS_TOKEN
  if (token === undefined || token === '') return undefined
  if (token.length < 16 || PLACEHOLDER_SECRETS.test(token) || !/^[\x21-\x7e]+$/.test(token))
    problems.push('MCPRAG_METRICS_TOKEN is invalid: set at least 16 random printable characters without spaces (e.g. `openssl rand -hex 24`), or leave it unset for an open /metrics')
  return token
}

interface AuthContext {
  problems: string[]
  int(name: string, def: number, min: number, max: number): number
  list(name: string, def: string[]): string[]
  port: number
  hostName: string
  dataDir: string
  allowedHosts: string[]
  allowedOrigins: string[]
  /** Several instances share state (Redis): keys and the public URL must be the same everywhere. */
  shared: boolean
}

function loadAuthConfig(env: Env, c: AuthContext): AuthConfig | undefined {
  const { problems, int, list } = c
  if (!onOff(env, 'MCPRAG_AUTH', true, problems)) {
    if (!isLoopback(c.hostName))
      problems.push(`MCPRAG_AUTH=off is refused because HOST=${c.hostName} is not a loopback address: keep authentication on, or bind HOST=127.0.0.1 for local development`)
    return undefined
  }
  const notes: string[] = []
  const production = env.NODE_ENV === 'production'

  /** A key from the environment, or in development one generated once and kept (0600) in the data dir. */
  const key = (name: string, file: string): string => {
    const given = env[name]
    if (given !== undefined && given !== '') {
      if (given.length < 32 || PLACEHOLDER_SECRETS.test(given)) problems.push(`${name} is too weak: set at least 32 random characters (e.g. \`openssl rand -hex 32\`)`)
      return given
    }
    if (production) {
      problems.push(`${name} is not set: set at least 32 random characters (e.g. \`openssl rand -hex 32\`); only outside production (NODE_ENV) is one generated`)
      return ''
    }
    if (c.shared) {
      problems.push(`${name} is not set: with REDIS_URL every instance must use the same key; set the same random value (at least 32 characters, e.g. \`openssl rand -hex 32\`) on every instance`)
      return ''
    }
    const path = join(c.dataDir, file)
    try {
      if (!existsSync(path)) {
        mkdirSync(c.dataDir, { recursive: true, mode: 0o700 })
        writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' })
        notes.push(`${name} is not set: generated one and saved it to ${path} (mode 600). Set ${name} in production.`)
      }
      if ((statSync(path).mode & 0o077) !== 0) problems.push(`${path} (the generated ${name}) is readable by other users: chmod 600 it, or set ${name}`)
      const value = readFileSync(path, 'utf8').trim()
      if (value.length < 32) problems.push(`${path} holds a key shorter than 32 characters: delete it to generate a new one, or set ${name}`)
      return value
    } catch (err) {
      problems.push(`${name} is not set and ${path} could not be created or read (${(err as Error).message}): set ${name}, or MCPRAG_DATA_DIR to a writable directory`)
      return ''
    }
  }

  const parseRate = (raw: string): Limit | undefined => {
    const m = /^(\d+)\/(\d+)(s|m|h)$/.exec(raw)
    if (!m || Number(m[1]) < 1 || Number(m[2]) < 1) return undefined
    return { max: Number(m[1]), windowMs: Number(m[2]) * { s: 1000, m: 60_000, h: 3_600_000 }[m[3] as 's' | 'm' | 'h'] }
  }
  const rate = (name: string, def: string): Limit => {
    const raw = env[name]?.trim() || def
    const limit = parseRate(raw)
    if (limit) return limit
    problems.push(`${name}="${raw}" is invalid: set <count>/<window> such as ${def} (window in s, m or h)`)
    return parseRate(def)!
  }

  let publicUrl: string | undefined
  const rawUrl = env.MCPRAG_PUBLIC_URL?.trim()
  if (rawUrl) {
    let url: URL | undefined
    try {
      url = new URL(rawUrl)
    } catch {
      // reported below
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash)
      problems.push(`MCPRAG_PUBLIC_URL="${rawUrl}" is invalid: set the server's base URL without a path, such as https://mcp.example.com`)
    else {
      publicUrl = url.origin
      // The server's own pages post to it, and a proxy forwards its name.
      if (!c.allowedOrigins.includes('*')) c.allowedOrigins.push(url.origin)
      if (!c.allowedHosts.includes('*') && !c.allowedHosts.includes(url.hostname)) c.allowedHosts.push(url.hostname.toLowerCase())
    }
  } else if (!isLoopback(c.hostName) || c.shared) {
    problems.push(`MCPRAG_PUBLIC_URL is not set: set the URL clients reach ${c.shared ? 'the instances at (the proxy in front of them; tokens are bound to it)' : 'this server at (used in emailed links and token audience)'}, such as https://mcp.example.com`)
  } else if (c.port !== 0) {
    publicUrl = `http://${c.hostName}:${c.port}`
  }

  const signup = env.MCPRAG_SIGNUP?.trim() || 'invite'
  if (signup !== 'open' && signup !== 'invite') problems.push(`MCPRAG_SIGNUP="${signup}" is invalid: set "invite" (only known users sign in) or "open" (anyone may sign up)`)
  const adminEmails = list('MCPRAG_ADMIN_EMAILS', []).map(normaliseEmail)
  for (const e of adminEmails) {
    const problem = emailProblem(e)
    if (problem) problems.push(`MCPRAG_ADMIN_EMAILS entry "${e}" is not an acceptable email address: ${problem}`)
  }
  const smtpUrl = env.SMTP_URL?.trim() || undefined
  if (smtpUrl && !/^smtps?:\/\//.test(smtpUrl)) problems.push('SMTP_URL is invalid: set smtp://user:pass@host:587 or smtps://user:pass@host:465')

  return {
    publicUrl,
    jwtSecret: key('MCPRAG_JWT_SECRET', 'jwt-secret'),
    totpKey: key('MCPRAG_TOTP_KEY', 'totp-key'),
    signup: signup === 'open' ? 'open' : 'invite',
    adminEmails,
    smtpUrl,
    mailFrom: env.MCPRAG_MAIL_FROM?.trim() || 'mcprag <no-reply@localhost>',
    sessionTokenTtlMs: int('MCPRAG_TOKEN_TTL_S', 12 * 3600, 300, 30 * 24 * 3600) * 1000,
    loginTokenTtlMs: int('MCPRAG_LOGIN_TOKEN_TTL_S', 600, 60, 900) * 1000,
    mfaWindowMs: int('MCPRAG_MFA_WINDOW_S', 900, 60, 86_400) * 1000,
    mfaMaxFailures: int('MCPRAG_MFA_MAX_FAILURES', 5, 1, 100),
    mfaLockMs: int('MCPRAG_MFA_LOCKOUT_S', 900, 10, 86_400) * 1000,
    rateLimits: {
      loginPerEmail: rate('MCPRAG_RATE_LOGIN_EMAIL', '5/15m'),
      loginPerMailbox: rate('MCPRAG_RATE_LOGIN_MAILBOX', '30/1h'),
      authPerAddress: rate('MCPRAG_RATE_AUTH_ADDRESS', '100/15m'),
      toolCallsPerUser: rate('MCPRAG_RATE_TOOLS_USER', '600/1m'),
      requestsPerAddress: rate('MCPRAG_RATE_REQUESTS_ADDRESS', '6000/1m'),
    },
    trustedProxies: int('MCPRAG_TRUSTED_PROXIES', 0, 0, 10),
    oauth: {
      // Clients refresh up to a minute early (mcp-remote): below 15 min they would refresh constantly.
      accessTokenTtlMs: int('MCPRAG_OAUTH_ACCESS_TOKEN_TTL_S', 1800, 900, 86_400) * 1000,
      grantTtlMs: int('MCPRAG_OAUTH_GRANT_TTL_S', 30 * 86_400, 3600, 365 * 86_400) * 1000,
      redirectSchemes: redirectSchemes(list('MCPRAG_OAUTH_REDIRECT_SCHEMES', ['cursor', 'vscode', 'vscode-insiders']), problems),
      registerPerAddress: rate('MCPRAG_RATE_REGISTER_ADDRESS', '20/1h'),
      github: github(env, problems),
    },
    notes,
  }
}

function redirectSchemes(schemes: string[], problems: string[]): string[] {
  for (const s of schemes)
    if (!/^[a-z][a-z0-9+.-]*$/.test(s) || ['http', 'https', 'javascript', 'data', 'file', 'vbscript', 'blob', 'about'].includes(s))
      problems.push(`MCPRAG_OAUTH_REDIRECT_SCHEMES entry "${s}" is invalid: list private-use URI schemes of native apps such as cursor,vscode (lower case, no "://"; never http, https, javascript, data or file)`)
  return schemes
}

/** GitHub sign-in: both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET, or neither. */
function github(env: Env, problems: string[]): GithubSettings | undefined {
  const clientId = env.GITHUB_CLIENT_ID?.trim()
  const clientSecret = env.GITHUB_CLIENT_SECRET?.trim()
  if (!clientId && !clientSecret) return undefined
  if (!clientId || !clientSecret) {
    problems.push('GitHub sign-in needs both GITHUB_CLIENT_ID and GITHUB_CLIENT_SECRET (from your GitHub OAuth app); set both, or neither to turn it off')
    return undefined
  }
  const url = (name: string, def: string): string => {
    const raw = env[name]?.trim() || def
    let u: URL | undefined
    try {
      u = new URL(raw)
    } catch {
      // reported below
    }
    if (!u || (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname))) || u.search || u.hash || u.pathname !== '/') {
      problems.push(`${name}="${raw}" is invalid: set an https base URL without a path such as ${def} (http only on a loopback address, for tests)`)
      return def
    }
    return u.origin
  }
  return { clientId, clientSecret, oauthUrl: url('GITHUB_OAUTH_URL', 'https://github.com'), apiUrl: url('GITHUB_API_URL', 'https://api.github.com') }
}

/** Settings of the command-line client (`bun run mcprag search|analyze|generate|tools|call|login`). */
export interface ClientConfig {
  /** The server's base URL (`MCPRAG_URL`, default http://127.0.0.1:3000). */
  url: string
  /** A bearer token given in the environment (`MCPRAG_TOKEN`); otherwise the saved one is used. */
  token?: string
  /** Where `login` saves the token (mode 0600). */
  tokenFile: string
}

export function loadClientConfig(env: Env = process.env): ClientConfig {
  const raw = env.MCPRAG_URL?.trim() || `http://127.0.0.1:${env.PORT?.trim() || '3000'}`
  let url: URL
  try {
    url = new URL(raw)
    if (!/^https?:$/.test(url.protocol)) throw new Error('scheme')
  } catch {
    throw new ConfigError([`MCPRAG_URL="${raw}" is invalid: set the server's base URL, such as http://127.0.0.1:3000`])
  }
  const configHome = env.XDG_CONFIG_HOME?.trim() || join(env.HOME?.trim() || homedir(), '.config')
  const config: ClientConfig = { url: url.origin, tokenFile: env.MCPRAG_TOKEN_FILE?.trim() || join(configHome, 'mcprag', 'token') }
  const token = env.MCPRAG_TOKEN?.trim()
  if (token) config.token = token
  return config
}
