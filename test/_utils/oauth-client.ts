/**
 * An `OAuthClientProvider` for the MCP SDK clients (1.x and 2.x share the shape) whose browser
 * is the scripted agent: `redirectToAuthorization` runs the whole sign-in and keeps the redirect
 * it ends at, for the test to hand to `finishAuth`. Everything it stores stays in memory, so a
 * second connection with the same provider reuses the registration and the tokens.
 */
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import { CookieJar, authorizeInBrowser, type AgentOptions, type AgentResult } from './browser-agent.ts'

/** An unbound loopback port: the agent stops at the redirect and never connects to it. */
export const REDIRECT = 'http://127.0.0.1:1/callback'

export class AgentProvider implements OAuthClientProvider {
  client: Record<string, unknown> | undefined
  savedTokens: Record<string, unknown> | undefined
  verifier = ''
  discovery: unknown
  lastState = ''
  /** What the agent ended at, per authorization. */
  readonly results: AgentResult[] = []

  readonly agent: AgentOptions

  /** One browser per provider: its cookies outlive one sign-in, as a real browser's do. */
  constructor(
    agent: AgentOptions,
    readonly metadata: Record<string, unknown> = {},
  ) {
    this.agent = { jar: new CookieJar(), ...agent }
  }

  get redirectUrl() {
    return REDIRECT
  }
  get clientMetadata() {
    return { client_name: 'e2e', redirect_uris: [REDIRECT], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none', ...this.metadata } as never
  }
  state() {
    this.lastState = crypto.randomUUID()
    return this.lastState
  }
  clientInformation() {
    return this.client as never
  }
  saveClientInformation(c: unknown) {
    this.client = c as Record<string, unknown>
  }
  tokens() {
    return this.savedTokens as never
  }
  saveTokens(t: unknown) {
    this.savedTokens = t as Record<string, unknown>
  }
  saveCodeVerifier(v: string) {
    this.verifier = v
  }
  codeVerifier() {
    return this.verifier
  }
  saveDiscoveryState(d: unknown) {
    this.discovery = d
  }
  discoveryState() {
    return this.discovery as never
  }
  async redirectToAuthorization(url: URL) {
    this.results.push(await authorizeInBrowser(url.href, this.agent))
  }
  /** The last redirect's query. */
  get callback(): URLSearchParams {
    return this.results.at(-1)!.redirect.searchParams
  }
}
