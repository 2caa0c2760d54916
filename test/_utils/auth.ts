/**
 * Driving the auth surface of a real server: sign in through the emailed token (over real SMTP),
 * enrol and use TOTP, speak MCP (Streamable HTTP) or REST with a bearer token, and get WebSocket
 * tickets.
 */
import type { TOTP } from 'otpauth'
import type { Tier } from '../../src/core/types.ts'
import { totpFor } from '../../src/auth/totp.ts'
import { post } from './http.ts'
import { startAuthServer, type TestServer } from './server.ts'
import { parseEnrolmentMail, parseLoginMail, startSmtp, type TestSmtp } from './smtp.ts'

export interface Harness {
  server: TestServer
  smtp: TestSmtp
  url: string
  stop(): Promise<void>
}

/** An auth-on server whose sign-in emails go over SMTP to a local SMTP server. */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const smtp = await startSmtp()
  const server = await startAuthServer({ SMTP_URL: smtp.url, ...env })
  return {
    server,
    smtp,
    url: server.url,
    async stop() {
      await server.stop()
      await smtp.stop()
    },
  }
}

export interface Login {
  token: string
  email: string
  tier: string
  user_id: string
  expires_at: number
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` })

export function restPost(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) })
}

/** Create the user unless it exists (invite mode). */
export async function ensureUser(h: Harness, email: string, tier: Tier): Promise<void> {
  const users = h.server.auth!.stores.users
  if (!(await users.getByEmail(email))) await users.create({ email, tier, now: Date.now() })
}

/** POST /auth/login and return the next sign-in email's token and link. */
export async function requestLogin(h: Harness, email: string): Promise<{ token: string; link: string }> {
  const before = h.smtp.to(email).length
  const res = await restPost(`${h.url}/auth/login`, { email })
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`)
  return parseLoginMail(await h.smtp.waitFor(email, before + 1))
}

/** The whole command-line sign-in: login, the emailed token, GET /auth/callback as JSON. */
export async function signIn(h: Harness, email: string, tier?: Tier): Promise<Login> {
  if (tier) await ensureUser(h, email, tier)
  const { token } = await requestLogin(h, email)
  const res = await fetch(`${h.url}/auth/callback?token=${token}`, { headers: { accept: 'application/json' } })
  if (res.status !== 200) throw new Error(`callback failed: ${res.status} ${await res.text()}`)
  return (await res.json()) as Login
}

/** Wait until at least 4 s remain in the current 30 s TOTP step, so codes computed now stay current. */
export async function awayFromStepBoundary(): Promise<void> {
  const into = Date.now() % 30_000
  if (into > 26_000) await Bun.sleep(30_000 - into + 50)
}

export const codeAt = (totp: TOTP, offsetSteps = 0) => totp.generate({ timestamp: Date.now() + offsetSteps * 30_000 })

/**
 * POST /auth/totp/enroll as the whole client does it: a first enrolment is answered 202 and a code
 * is emailed, which the second POST carries. Returns the final response (200 with the secret).
 */
export async function startEnrolment(h: Harness, login: Login): Promise<Response> {
  const before = h.smtp.to(login.email).length
  const first = await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(login.token))
  if (first.status !== 202) return first
  const code = parseEnrolmentMail(await h.smtp.waitFor(login.email, before + 1))
  return restPost(`${h.url}/auth/totp/enroll`, { enrolment_code: code }, bearer(login.token))
}

/**
 * Enrol an authenticator and confirm it with the previous step's code (so the current step's code
 * is still unused for one verification). Confirming marks the calling session MFA-verified.
 */
export async function enrolTotp(h: Harness, login: Login): Promise<TOTP> {
  const res = await startEnrolment(h, login)
  if (res.status !== 200) throw new Error(`enroll failed: ${res.status} ${await res.text()}`)
  const { secret } = (await res.json()) as { secret: string }
  const totp = totpFor(secret)
  await awayFromStepBoundary()
  const confirm = await restPost(`${h.url}/auth/totp/confirm`, { totp_code: codeAt(totp, -1) }, bearer(login.token))
  if (confirm.status !== 200) throw new Error(`confirm failed: ${confirm.status} ${await confirm.text()}`)
  return totp
}

export function verifyMfa(h: Harness, login: Login, code: unknown, userId: unknown = login.user_id): Promise<Response> {
  return restPost(`${h.url}/auth/verify-mfa`, { user_id: userId, totp_code: code }, bearer(login.token))
}

export interface McpSession {
  id: string
  headers: Record<string, string>
}

/** initialize + initialized on /mcp with a bearer token. */
export async function mcpSession(h: Harness, token: string): Promise<McpSession> {
  const res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'auth-test', version: '1' } } }, bearer(token))
  if (res.status !== 200) throw new Error(`initialize failed: ${res.status} ${await res.text()}`)
  const id = res.headers.get('mcp-session-id')!
  const headers = { ...bearer(token), 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' }
  const ack = await post(`${h.url}/mcp`, { jsonrpc: '2.0', method: 'notifications/initialized' }, headers)
  if (ack.status !== 202) throw new Error(`initialized: ${ack.status}`)
  return { id, headers }
}

/** One JSON-RPC request on a session; returns the HTTP status and the parsed JSON-RPC response. */
export async function mcpCall(h: Harness, s: McpSession, method: string, params: Record<string, unknown>, id = 1): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await post(`${h.url}/mcp`, { jsonrpc: '2.0', id, method, params }, s.headers)
  const text = await res.text()
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }
}

/** POST /auth/ws-ticket with a bearer token; returns the single-use WebSocket ticket. */
export async function wsTicket(baseUrl: string, token: string): Promise<string> {
  const res = await fetch(`${baseUrl}/auth/ws-ticket`, { method: 'POST', headers: bearer(token) })
  if (res.status !== 200) throw new Error(`ws-ticket failed: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { ticket: string }).ticket
}

/** What a browser opens: the WebSocket URL with a fresh ticket (never the token itself). */
export async function wsTicketUrl(baseUrl: string, token: string): Promise<string> {
  return `${baseUrl.replace(/^http/, 'ws')}/mcp/ws?ticket=${await wsTicket(baseUrl, token)}`
}
