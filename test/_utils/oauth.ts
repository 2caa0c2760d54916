/**
 * Driving the authorization server by hand, as a strict client would: register, build an
 * authorization URL with PKCE, have the scripted browser sign in and consent, exchange the code.
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TOTP } from 'otpauth'
import { s256 } from '../../src/oauth/pkce.ts'
import { enrolTotp, ensureUser, signIn, startHarness, type Harness } from './auth.ts'
import { authorizeInBrowser, serveAgent, type AgentOptions } from './browser-agent.ts'

export const CALLBACK = 'http://127.0.0.1:1/cb'

export async function register(h: Harness, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${h.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
}

/** A registered public client; returns its id. */
export async function publicClient(h: Harness, redirectUris = [CALLBACK], extra: Record<string, unknown> = {}): Promise<string> {
  const res = await register(h, { client_name: 'test client', redirect_uris: redirectUris, token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], ...extra })
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`)
  return ((await res.json()) as { client_id: string }).client_id
}

export interface Started {
  url: string
  verifier: string
  state: string
}

/** An authorization URL with a fresh PKCE pair and state; `params` override or remove (undefined) fields. */
export function authorizeUrl(h: Harness, clientId: string, params: Record<string, string | undefined> = {}): Started {
  const verifier = randomBytes(32).toString('base64url')
  const state = randomBytes(8).toString('hex')
  const all: Record<string, string | undefined> = {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: CALLBACK,
    code_challenge: s256(verifier),
    code_challenge_method: 'S256',
    state,
    scope: 'mcp:tools',
    resource: `${h.url}/mcp`,
    ...params,
  }
  const q = new URLSearchParams()
  for (const [k, v] of Object.entries(all)) if (v !== undefined) q.append(k, v)
  return { url: `${h.url}/authorize?${q}`, verifier, state }
}

/** Sign in and consent in the scripted browser; the code and what redeeming it needs. */
export async function getCode(h: Harness, clientId: string, agent: Omit<AgentOptions, 'h'>, params: Record<string, string | undefined> = {}) {
  const started = authorizeUrl(h, clientId, params)
  const { redirect, pages } = await authorizeInBrowser(started.url, { h, ...agent })
  const code = redirect.searchParams.get('code')
  if (!code) throw new Error(`no code: ${redirect.href}`)
  return { code, verifier: started.verifier, state: started.state, redirect, pages }
}

export function tokenRequest(h: Harness, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${h.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form).toString() })
}

export interface Tokens {
  access_token: string
  refresh_token?: string
  token_type: string
  expires_in: number
  scope: string
}

/** Exchange a code (public client); throws unless 200. */
export async function exchange(h: Harness, clientId: string, c: { code: string; verifier: string }, resource = `${h.url}/mcp`): Promise<Tokens> {
  const res = await tokenRequest(h, { grant_type: 'authorization_code', code: c.code, code_verifier: c.verifier, redirect_uri: CALLBACK, client_id: clientId, resource })
  if (res.status !== 200) throw new Error(`token: ${res.status} ${await res.text()}`)
  return (await res.json()) as Tokens
}

/** A ping on /mcp with a bearer token: the HTTP status tells whether the token is accepted. */
export async function mcpStatus(h: Harness, token: string, path = '/mcp'): Promise<number> {
  const res = await fetch(`${h.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
  })
  await res.text()
  return res.status
}

/** How many clients registered so far (the audit log records each registration). */
export async function registrations(h: Harness): Promise<number> {
  return (await h.server.auth!.audit.query({ limit: 1000, kind: 'oauth_client_registered' })).length
}

/** A command-line client's world: a harness with user ada, a home directory, and the agent as `$BROWSER`. */
export interface CliWorld {
  h: Harness
  home: string
  agent: ReturnType<typeof serveAgent>
  stop(): Promise<void>
}

export async function startCliWorld(): Promise<CliWorld> {
  const h = await startHarness()
  await ensureUser(h, 'ada@example.com', 'user')
  const home = mkdtempSync(join(tmpdir(), 'mcprag-cli-'))
  const agent = serveAgent({ h, email: 'ada@example.com' })
  return {
    h,
    home,
    agent,
    async stop() {
      agent.stop()
      await h.stop()
      rmSync(home, { recursive: true, force: true })
    },
  }
}

/** A harness whose admin ada has an authenticator (for admin step-ups). */
export async function startAdminHarness(): Promise<{ h: Harness; totp: TOTP }> {
  const h = await startHarness()
  return { h, totp: await enrolTotp(h, await signIn(h, 'ada@example.com', 'admin')) }
}
