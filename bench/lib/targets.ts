/**
 * @module bench/lib/targets
 * What the benchmark measures. Every HTTP target is sent the same `tools/call` of a trivial echo
 * tool (target 6 calls the same echo with a progress token, so its reply is an SSE stream; target
 * 4ᵐ sends it as an MCP 2026-07-28 request, with its `_meta` envelope and Mcp-* headers).
 */
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { SERVER_CPU, spawnPinned, waitListening, type Child } from './spawn.ts'

export const PROTOCOL = '2025-11-25'

/** `{{id}}` is replaced by a per-request counter (requests on one session must not share an id). */
export const ECHO_BODY = '{"jsonrpc":"2.0","id":{{id}},"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}'
export const ECHO_PROGRESS_BODY =
  '{"jsonrpc":"2.0","id":{{id}},"method":"tools/call","params":{"name":"echo_progress","arguments":{"text":"hello"},"_meta":{"progressToken":{{id}}}}}'

/** The echo call as MCP 2026-07-28 sends it: no session, the client's declarations in `_meta`. */
export const ECHO_MODERN_BODY =
  '{"jsonrpc":"2.0","id":{{id}},"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"},"_meta":{' +
  '"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientInfo":{"name":"mcprag-bench","version":"1.0.0"},' +
  '"io.modelcontextprotocol/clientCapabilities":{}}}}'
/** The headers a 2026-07-28 client mirrors from that body (they replace BASE_HEADERS' protocol version). */
const MODERN_HEADERS: Record<string, string> = { 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'echo' }

export const BASE_HEADERS: Record<string, string> = {
  'content-type': 'application/json',
  accept: 'application/json, text/event-stream',
  'mcp-protocol-version': PROTOCOL,
}

export interface Prepared {
  /** Extra headers for every load request (session id, bearer token). */
  headers: Record<string, string>
  body: string
  /** Human note shown with the row (e.g. how the session was obtained). */
  note?: string
}

export interface HttpTarget {
  kind: 'http'
  key: string
  /** The target number (shown in the table). */
  n: string
  label: string
  /** The target whose figures the "× raw" ratios divide by (default `raw-bun`). */
  reference?: string
  runtime: () => string
  reply: 'JSON' | 'SSE'
  cmd: () => string[]
  env: Record<string, string>
  /** It keeps its state in the run's Redis: its rounds count Redis commands per request. */
  redis?: boolean
  /** Returns the load to send, or a reason the target cannot run (yet). */
  prepare(url: string): Promise<Prepared | { skip: string }>
}

export interface WsTarget {
  kind: 'ws'
  key: string
  n: string
  label: string
  reference?: string
  runtime: () => string
  reply: 'WS'
  cmd: () => string[]
  env: Record<string, string>
  prepare(url: string): Promise<{ wsUrl: string } | { skip: string }>
}

export type Target = HttpTarget | WsTarget

export const bunVersion = () => `Bun ${Bun.version}`
/**
 * The Node that runs target 2: `BENCH_NODE`, else the first `node` on PATH outside node_modules
 * (`bun run` puts node_modules/.bin first, where the `node` package may provide another major).
 */
let nodePath: string | undefined
export function nodeBinary(): string {
  if (nodePath === undefined) {
    const dirs = (process.env.PATH ?? '').split(':').filter((d) => d && !d.includes('node_modules'))
    nodePath = process.env.BENCH_NODE || dirs.map((d) => `${d}/node`).find((p) => existsSync(p)) || 'node'
  }
  return nodePath
}
let nodeVersionCache: string | undefined
export const nodeVersion = () =>
  (nodeVersionCache ??= `Node ${Bun.spawnSync([nodeBinary(), '--version']).stdout.toString().trim().replace(/^v/, '') || '?'}`)

/**
 * mcprag with authentication off and without the audit line on stdout (auth, tiers and audit are
 * target 5; the in-memory audit record of each call stays, it cannot be turned off).
 */
export const MCPRAG_ENV: Record<string, string> = {
  MCPRAG_AUTH: 'off',
  MCPRAG_AUDIT_STDOUT: 'off',
  // The idle-memory runs hold 10 000 sessions and streams of one (anonymous) user on one address.
  MCPRAG_MAX_SESSIONS_PER_USER: '1000000',
  MCPRAG_MAX_SESSIONS_PER_ADDRESS: '1000000',
  MCPRAG_MAX_STREAMS_PER_USER: '1000000',
  MCPRAG_MAX_STREAMS_PER_ADDRESS: '1000000',
}
/** As MCPRAG_ENV, stateless (`MCPRAG_STATELESS=on`): no session, like the SDK peers' stateless mode. */
export const MCPRAG_STATELESS_ENV: Record<string, string> = { ...MCPRAG_ENV, MCPRAG_STATELESS: 'on' }

const fill = (body: string, id: number) => body.replaceAll('{{id}}', String(id))

/** POST one message and return the response (body read). */
export async function post(url: string, headers: Record<string, string>, body: string): Promise<{ status: number; headers: Headers; text: string }> {
  const res = await fetch(`${url}/mcp`, { method: 'POST', headers: { ...BASE_HEADERS, ...headers }, body })
  return { status: res.status, headers: res.headers, text: await res.text() }
}

/** initialize + notifications/initialized; returns the session id. */
export async function openSession(url: string, headers: Record<string, string> = {}): Promise<string> {
  const init = await post(
    url,
    headers,
    JSON.stringify({
      jsonrpc: '2.0',
      id: 0,
      method: 'initialize',
      params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'mcprag-bench', version: '1.0.0' } },
    }),
  )
  const session = init.headers.get('mcp-session-id')
  if (init.status !== 200 || !session) throw new Error(`initialize answered ${init.status}: ${init.text.slice(0, 300)}`)
  const ack = await post(url, { ...headers, 'mcp-session-id': session }, JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))
  if (ack.status !== 202) throw new Error(`notifications/initialized answered ${ack.status}: ${ack.text.slice(0, 300)}`)
  return session
}

/** Send the load request once and check the answer is the echo's result, in the expected form. */
export async function validate(url: string, prepared: Prepared, reply: 'JSON' | 'SSE'): Promise<void> {
  const res = await post(url, prepared.headers, fill(prepared.body, 1))
  const type = res.headers.get('content-type') ?? ''
  const ok =
    res.status === 200 &&
    res.text.includes('"text":"hello"') &&
    !res.text.includes('"error"') &&
    type.startsWith(reply === 'SSE' ? 'text/event-stream' : 'application/json')
  if (!ok) throw new Error(`the load request was not answered as expected (${res.status} ${type}): ${res.text.slice(0, 400)}`)
}

const staticPrepared = (body: string) => async (): Promise<Prepared> => ({ headers: {}, body })

function sessionPrepared(body: string) {
  return async (url: string): Promise<Prepared> => {
    const session = await openSession(url)
    return {
      headers: { 'mcp-session-id': session },
      body,
      note: 'one session initialized before the load; every request carries its Mcp-Session-Id',
    }
  }
}

/**
 * Target 5: authentication (issue 4) on, with its tiers, rate limiting and audit (database and a
 * JSON line on stdout per call). Each run uses a throw-away data directory and keys; the rate
 * limits are raised so the load is never refused (the limiter still counts every request). A user
 * of tier `user` is created and a bearer token minted with the operator CLI (`src/cli.ts`), as an
 * operator would for a script. `BENCH_AUTH_ENV` (a JSON object) adds or overrides server variables.
 * The target skips itself, saying why, when the server does not ask for a token.
 */
const AUTH_DATA_DIR = `${process.cwd()}/bench/out/auth-data`
let authSettings: Record<string, string> | undefined
export function authEnv(): Record<string, string> {
  if (!authSettings) {
    rmSync(AUTH_DATA_DIR, { recursive: true, force: true })
    const hex = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
    authSettings = {
      MCPRAG_AUTH: 'on',
      MCPRAG_AUDIT_STDOUT: 'on',
      MCPRAG_STATELESS: 'on',
      MCPRAG_DATA_DIR: AUTH_DATA_DIR,
      MCPRAG_JWT_SECRET: hex(),
      MCPRAG_TOTP_KEY: hex(),
      MCPRAG_RATE_TOOLS_USER: '1000000000/1s',
      MCPRAG_RATE_REQUESTS_ADDRESS: '1000000000/1s',
      MCPRAG_MAX_SESSIONS_PER_USER: '1000000',
      MCPRAG_MAX_STREAMS_PER_USER: '1000000',
      ...(JSON.parse(process.env.BENCH_AUTH_ENV ?? '{}') as Record<string, string>),
    }
  }
  return authSettings
}

function cli(args: string[], env: Record<string, string>): { ok: boolean; out: string; err: string } {
  const r = Bun.spawnSync(['bun', 'src/cli.ts', ...args], { env })
  return { ok: r.exitCode === 0, out: r.stdout.toString().trim(), err: r.stderr.toString().trim() }
}

/** A `user`-tier user made, and its token minted, with the operator CLI on the server's own stores. */
function bearerFor(env: Record<string, string>, email: string): Record<string, string> {
  const created = cli(['user', 'create', email, '--tier', 'user'], env)
  if (!created.ok && !/exist/i.test(`${created.err} ${created.out}`)) throw new Error(`creating the bench user failed: ${created.err || created.out}`)
  const minted = cli(['user', 'token', email, '--ttl', '1d'], env)
  const token = minted.out.split('\n').pop()?.trim()
  if (!minted.ok || !token) throw new Error(`minting a token failed: ${minted.err || minted.out}`)
  return { authorization: `Bearer ${token}` }
}

async function prepareAuth(url: string): Promise<Prepared | { skip: string }> {
  const probe = await post(
    url,
    {},
    JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'probe', version: '1' } } }),
  )
  if (probe.status !== 401)
    return { skip: `not yet available: authentication (issue 4, MCPRAG_AUTH) is not built — POST /mcp initialize without a token answered ${probe.status}, not 401` }
  const headers = bearerFor({ ...serverEnv(authEnv()), MCPRAG_PUBLIC_URL: url }, 'bench@example.com')
  return {
    headers,
    body: ECHO_BODY,
    note: 'bearer token (a `user`-tier user made with `bun run mcprag user create/token`) on every request; stateless, like target 4',
  }
}

/**
 * Target 5ʳ: as target 5, with every piece of shared state in the run's own Redis (`REDIS_URL`),
 * as one instance of a cluster runs. Its rounds also count Redis commands per call.
 */
let benchRedis: { url: string; port: number } | undefined
let redisAuthSettings: Record<string, string> | undefined
export function useBenchRedis(redis: { url: string; port: number } | undefined): void {
  benchRedis = redis
}
export const benchRedisPort = () => benchRedis?.port
function redisAuthEnv(): Record<string, string> {
  if (!benchRedis) return {}
  redisAuthSettings ??= {
    ...authEnv(),
    // Over a session: the session lookup is part of what a cluster instance does on every call.
    MCPRAG_STATELESS: 'off',
    REDIS_URL: benchRedis.url,
    MCPRAG_REDIS_PREFIX: 'bench-auth:',
    MCPRAG_SECRET: Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex'),
    // Tokens are bound to the public URL, which a shared deployment must name; any fixed value does here.
    MCPRAG_PUBLIC_URL: 'http://127.0.0.1:1',
  }
  return redisAuthSettings
}

async function prepareRedisAuth(url: string): Promise<Prepared | { skip: string }> {
  if (!benchRedis) return { skip: 'no redis-server on this machine (apt-get install redis-server)' }
  const headers = bearerFor(serverEnv(redisAuthEnv()), 'bench-redis@example.com')
  const session = await openSession(url, headers)
  return {
    headers: { ...headers, 'mcp-session-id': session },
    body: ECHO_BODY,
    note: 'as 5, over one session, state in Redis; the rounds also count Redis commands per call (INFO commandstats)',
  }
}

/** Target 7 runs when /mcp/ws accepts a WebSocket with subprotocol `mcp` (issue 3). */
async function prepareWs(url: string): Promise<{ wsUrl: string } | { skip: string }> {
  const wsUrl = url.replace(/^http/, 'ws') + '/mcp/ws'
  const probe = await fetch(`${url}/mcp/ws`).catch(() => undefined)
  const accepted = await new Promise<string | true>((resolve) => {
    const ws = new WebSocket(wsUrl, 'mcp')
    const timer = setTimeout(() => {
      ws.close()
      resolve('no answer within 3 s')
    }, 3000)
    ws.onopen = () => {
      clearTimeout(timer)
      ws.close()
      resolve(true)
    }
    ws.onerror = () => {
      clearTimeout(timer)
      resolve('the upgrade was refused')
    }
  })
  if (accepted !== true)
    return { skip: `not yet available: the WebSocket transport (issue 3, /mcp/ws) is not built — GET /mcp/ws answered ${probe?.status ?? 'nothing'}, ${accepted}` }
  return { wsUrl }
}

export const TARGETS: Target[] = [
  {
    kind: 'http',
    key: 'raw-bun',
    n: '1',
    label: 'raw `Bun.serve` (ceiling): parse the body, answer a small JSON',
    runtime: bunVersion,
    reply: 'JSON',
    cmd: () => ['bun', 'bench/servers/raw-bun.ts'],
    env: {},
    prepare: staticPrepared(ECHO_BODY),
  },
  {
    kind: 'http',
    key: 'sdk-node-express',
    n: '2',
    label: 'official SDK, stateless, Node + express (as its docs show it)',
    runtime: nodeVersion,
    reply: 'SSE',
    cmd: () => [nodeBinary(), 'bench/out/build/sdk-express.mjs'],
    env: {},
    prepare: staticPrepared(ECHO_BODY),
  },
  {
    kind: 'http',
    key: 'sdk-bun-webstandard',
    n: '3',
    label: 'official SDK, stateless, `WebStandardStreamableHTTPServerTransport` on `Bun.serve`',
    runtime: bunVersion,
    reply: 'SSE',
    cmd: () => ['bun', 'bench/peers/sdk-web-standard.ts'],
    env: {},
    prepare: staticPrepared(ECHO_BODY),
  },
  {
    kind: 'http',
    key: 'mcprag',
    n: '4',
    label: 'mcprag, Streamable HTTP, stateless, JSON reply, auth off, no audit line',
    runtime: bunVersion,
    reply: 'JSON',
    cmd: () => ['bun', 'bench/servers/mcprag.ts'],
    env: MCPRAG_STATELESS_ENV,
    prepare: staticPrepared(ECHO_BODY),
  },
  {
    kind: 'http',
    key: 'mcprag-session',
    n: '4ˢ',
    label: 'mcprag as in 4 over an established session (Mcp-Session-Id), JSON reply',
    runtime: bunVersion,
    reply: 'JSON',
    cmd: () => ['bun', 'bench/servers/mcprag.ts'],
    env: MCPRAG_ENV,
    prepare: sessionPrepared(ECHO_BODY),
  },
  {
    kind: 'http',
    key: 'mcprag-modern',
    n: '4ᵐ',
    label: 'mcprag as in 4ˢ, but an MCP 2026-07-28 request: no session, `_meta` envelope and Mcp-* headers checked, JSON reply',
    runtime: bunVersion,
    reply: 'JSON',
    cmd: () => ['bun', 'bench/servers/mcprag.ts'],
    env: MCPRAG_ENV,
    prepare: async () => ({ headers: MODERN_HEADERS, body: ECHO_MODERN_BODY }),
  },
  {
    kind: 'http',
    key: 'mcprag-audit-line',
    n: '4ᵃ',
    label: 'mcprag as in 4, with the default audit line on stdout',
    runtime: bunVersion,
    reply: 'JSON',
    cmd: () => ['bun', 'bench/servers/mcprag.ts'],
    env: { MCPRAG_AUTH: 'off', MCPRAG_STATELESS: 'on' },
    prepare: staticPrepared(ECHO_BODY),
  },
  {
    kind: 'http',
    key: 'mcprag-auth',
    n: '5',
    label: 'mcprag, Streamable HTTP, stateless, auth + tiers + audit on (bearer token)',
    runtime: bunVersion,
    reply: 'JSON',
    cmd: () => ['bun', 'bench/servers/mcprag.ts'],
    get env() {
      return authEnv()
    },
    prepare: prepareAuth,
  },
  {
    kind: 'http',
    key: 'mcprag-auth-redis',
    n: '5ʳ',
    label: 'mcprag as in 5, over a session, every piece of shared state in Redis (one instance of a cluster)',
    runtime: bunVersion,
    reply: 'JSON',
    cmd: () => ['bun', 'bench/servers/mcprag.ts'],
    redis: true,
    get env() {
      return redisAuthEnv()
    },
    prepare: prepareRedisAuth,
  },
  {
    kind: 'http',
    key: 'mcprag-sse',
    n: '6',
    label: 'mcprag, Streamable HTTP, established session, SSE reply (progress + result)',
    runtime: bunVersion,
    reply: 'SSE',
    cmd: () => ['bun', 'bench/servers/mcprag.ts'],
    env: MCPRAG_ENV,
    prepare: sessionPrepared(ECHO_PROGRESS_BODY),
  },
  {
    kind: 'ws',
    key: 'raw-bun-ws',
    n: '1ʷ',
    label: 'raw `Bun.serve` WebSocket (ceiling for 7): parse each frame, answer a small JSON',
    reference: 'raw-bun-ws',
    runtime: bunVersion,
    reply: 'WS',
    cmd: () => ['bun', 'bench/servers/raw-bun.ts'],
    env: {},
    prepare: prepareWs,
  },
  {
    kind: 'ws',
    key: 'mcprag-ws',
    n: '7',
    label: 'mcprag, WebSocket /mcp/ws (one call in flight per socket)',
    reference: 'raw-bun-ws',
    runtime: bunVersion,
    reply: 'WS',
    cmd: () => ['bun', 'bench/servers/mcprag.ts'],
    env: MCPRAG_ENV,
    prepare: prepareWs,
  },
]

/** Environment for every server: the caller's, without MCPRAG_* settings, PORT or HOST. */
export function serverEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('MCPRAG_') && k !== 'PORT' && k !== 'HOST') env[k] = v
  return { ...env, PORT: '0', HOST: '127.0.0.1', NODE_ENV: 'production', ...extra }
}

/** Start a server pinned to the server core and wait for its `LISTENING` line. */
export async function startServer(name: string, cmd: string[], env: Record<string, string>, logDir: string, extraArgs: string[] = []): Promise<{ child: Child; url: string }> {
  const [bin, ...rest] = cmd
  const child = spawnPinned(name, SERVER_CPU, [bin!, ...extraArgs, ...rest], { env: serverEnv(env), logPath: `${logDir}/${name}.log` })
  const url = await waitListening(child)
  return { child, url }
}

/** Versions of what is measured. */
export function packageVersion(name: string): string {
  const path = `node_modules/${name}/package.json`
  if (!existsSync(path)) return 'missing'
  return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version
}
