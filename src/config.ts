/**
 * @module config
 * The only place that reads the environment. Every variable is parsed and checked here; all
 * problems are collected and reported together, before the server listens.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import type { AuthSettings } from './auth/auth.ts'
import { emailProblem, normaliseEmail } from './auth/email.ts'
import type { Limit } from './auth/rate-limit.ts'
import type { JsonLimits } from './transports/json-limits.ts'

/** Authentication settings; absent from `Config` when `MCPRAG_AUTH=off`. */
export interface AuthConfig extends AuthSettings {
  /** Base URL for emailed links, token `iss`/`aud` and resource metadata; unset = the listening URL. */
  publicUrl?: string
  smtpUrl?: string
  mailFrom: string
  /** Proxies in front that append to X-Forwarded-For (0: the header is ignored). */
  trustedProxies: number
  /** What boot should tell the operator (generated secrets). */
  notes: string[]
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
  /** Seconds an HTTP connection may stay silent before Bun closes it (streams are exempt). */
  httpIdleTimeoutS: number
  /** How long shutdown keeps serving, with `/ready` at 503, before it stops taking requests. */
  drainDelayMs: number
  /** The most shutdown waits for in-flight requests to finish before it closes everything. */
  shutdownGraceMs: number
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
  const auth = loadAuthConfig(env, { problems, int, list, port, hostName, dataDir, allowedHosts, allowedOrigins })

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
    auth,
    dataDir,
    auditStdout: onOff(env, 'MCPRAG_AUDIT_STDOUT', true, problems),
    metricsToken: metricsToken(env, problems),
    stateless: onOff(env, 'MCPRAG_STATELESS', false, problems),
    httpIdleTimeoutS: int('MCPRAG_HTTP_IDLE_TIMEOUT_S', 30, 6, 255),
    drainDelayMs: int('MCPRAG_DRAIN_DELAY_S', 0, 0, 300) * 1000,
    shutdownGraceMs: int('MCPRAG_SHUTDOWN_GRACE_S', 10, 0, 3600) * 1000,
  }
  if (problems.length) throw new ConfigError(problems)
  return Object.freeze(config)
}

const isLoopback = (hostName: string) => LOOPBACK_HOSTS.includes(hostName) || /^127\.\d+\.\d+\.\d+$/.test(hostName)
/** Values seen in examples and tutorials: never accepted as keys. */
const PLACEHOLDER_SECRETS = /^(secret|changeme|change-me|my_secrets?|password|test|example)$/i

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
  } else if (!isLoopback(c.hostName)) {
    problems.push(`MCPRAG_PUBLIC_URL is not set: set the URL clients reach this server at (used in emailed links and token audience), such as https://mcp.example.com`)
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
    notes,
  }
}
