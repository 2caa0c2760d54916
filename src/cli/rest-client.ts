/**
 * @module cli/rest-client
 * The REST API as the command-line client uses it: `POST /mcp/tool/{name}` with the arguments as
 * the JSON body (`{result}` back), `GET /mcp/tools`, and the magic-link sign-in.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'
import type { ClientConfig } from '../config.ts'
import type { CallToolResult } from '../core/types.ts'

/** A refusal or failure the server explained; `status` 0 means the server could not be reached. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly body?: unknown,
  ) {
    super(message)
    this.name = 'RestError'
  }
}

export class RestClient {
  readonly #config: ClientConfig

  constructor(config: ClientConfig) {
    this.#config = config
  }

  get url(): string {
    return this.#config.url
  }

  /** The token from the environment, else the one `login` saved, else none. */
  token(): string | undefined {
    if (this.#config.token) return this.#config.token
    try {
      return JSON.parse(readFileSync(this.#config.tokenFile, 'utf8')).token as string
    } catch {
      return undefined
    }
  }

  saveToken(saved: { token: string; email?: string; expires_at?: number }): string {
    mkdirSync(dirname(this.#config.tokenFile), { recursive: true, mode: 0o700 })
    writeFileSync(this.#config.tokenFile, `${JSON.stringify({ ...saved, url: this.url })}\n`, { mode: 0o600 })
    chmodSync(this.#config.tokenFile, 0o600)
    return this.#config.tokenFile
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
    const body = (await this.#request('POST', `/mcp/tool/${encodeURIComponent(name)}`, args)) as { result: CallToolResult }
    return body.result
  }

  async listTools(): Promise<{ name: string; description?: string; tier: string; inputSchema?: { properties?: Record<string, unknown> } }[]> {
    return ((await this.#request('GET', '/mcp/tools')) as { tools: never[] }).tools
  }

  async requestLogin(email: string): Promise<void> {
    await this.#request('POST', '/auth/login', { email }, false)
  }

  async completeLogin(token: string): Promise<{ token: string; email: string; tier: string; expires_at: number }> {
    return (await this.#request('POST', '/auth/callback', { token }, false)) as { token: string; email: string; tier: string; expires_at: number }
  }

  async #request(method: string, path: string, body?: unknown, authenticated = true): Promise<unknown> {
    const headers: Record<string, string> = { accept: 'application/json' }
    if (body !== undefined) headers['content-type'] = 'application/json'
    const token = authenticated ? this.token() : undefined
    if (token) headers.authorization = `Bearer ${token}`
    let res: Response
    try {
      res = await fetch(`${this.url}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
    } catch (err) {
      throw new RestError(0, `cannot reach ${this.url} (${(err as Error).message}): is the server running? (bun run dev; MCPRAG_URL sets where)`)
    }
    const text = await res.text()
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      json = undefined
    }
    if (!res.ok) {
      const m = json as { message?: string; error?: string } | undefined
      const hint = res.status === 401 ? ' (sign in with: bun run mcprag login <email>, or set MCPRAG_TOKEN)' : ''
      throw new RestError(res.status, `${res.status} ${m?.error ?? res.statusText}: ${m?.message ?? text.slice(0, 200)}${hint}`, json)
    }
    return json
  }
}
