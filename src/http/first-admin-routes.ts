/**
 * @module http/first-admin-routes
 * The first run of a development server: on a loopback server with authentication on and no user
 * yet, boot prints a one-time link (`/setup?token=…`, valid one hour, in memory only) whose page
 * makes the address typed into it the first admin. It works once, and only while there are still
 * no users, so it cannot mint admins later; a public server never offers it (the operator CLI,
 * `bun run mcprag user create`, does that job there).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { Elysia } from 'elysia'
import type { Auth } from '../auth/auth.ts'
import { AuthError } from '../auth/errors.ts'
import { parseEmail } from '../auth/login.ts'
import { readBody, type HttpGuard } from '../transports/http-guard.ts'
import { escapeHtml, page } from './page.ts'
import { ROUTE_DOCS } from './route-docs.ts'

const TTL_MS = 3_600_000

export class FirstAdmin {
  #hash: Buffer | undefined
  #expiresAt = 0

  constructor(
    readonly auth: Auth,
    readonly guard: HttpGuard,
  ) {}

  /** A one-time setup link while the server has no user; undefined once it has one. */
  async link(): Promise<string | undefined> {
    if ((await this.auth.stores.users.list({ limit: 1 })).users.length > 0) return undefined
    const token = randomBytes(32).toString('base64url')
    this.#hash = createHash('sha256').update(token).digest()
    this.#expiresAt = Date.now() + TTL_MS
    return `${this.auth.publicUrl()}/setup?token=${token}`
  }

  /** Spend the token once; false when it is wrong, used, expired, or none was issued. */
  #spend(token: string | null): boolean {
    if (!this.#hash || !token || Date.now() > this.#expiresAt) return false
    const ok = timingSafeEqual(this.#hash, createHash('sha256').update(token).digest())
    if (ok) this.#hash = undefined
    return ok
  }

  routes() {
    return new Elysia({ name: 'http:first-admin' })
      .get('/setup', ({ request }) => this.#form(request), { detail: ROUTE_DOCS.hidden })
      .post('/setup', ({ request }) => this.#submit(request), { parse: 'none', detail: ROUTE_DOCS.hidden })
  }

  #gone(): Response {
    return page(410, 'Link used', '<h1>This setup link no longer works</h1><p>It works once, for an hour, and only while the server has no users. Use <code>bun run mcprag user create &lt;email&gt; --tier admin</code> instead.</p>')
  }

  #form(request: Request): Response {
    const token = new URL(request.url).searchParams.get('token')
    if (!token || !this.#hash) return this.#gone()
    return page(
      200,
      'First admin',
      `<h1>Become the first admin of mcprag</h1><p>This server has no users yet. The address you enter becomes its first admin; you then sign in with it from your MCP client (the sign-in email is printed in the server console when SMTP is not set up).</p>
<form method="post" action="/setup"><input type="hidden" name="token" value="${escapeHtml(token)}"><label for="email">Email address</label><input type="email" id="email" name="email" required><button type="submit">Make me the admin</button></form>`,
    )
  }

  async #submit(request: Request): Promise<Response> {
    const denied = this.guard.check(request)
    if (denied) return denied
    const body = await readBody(request, 4096)
    const form = new URLSearchParams('tooLarge' in body ? '' : body.text)
    let email: string
    try {
      email = parseEmail(form.get('email'))
    } catch (err) {
      if (err instanceof AuthError) return page(400, 'Invalid address', '<h1>Enter an email address such as ada@example.com</h1>')
      throw err
    }
    if ((await this.auth.stores.users.list({ limit: 1 })).users.length > 0 || !this.#spend(form.get('token'))) return this.#gone()
    const user = await this.auth.stores.users.create({ email, tier: 'admin', now: Date.now() })
    this.auth.audit.record({ kind: 'first_admin_created', outcome: 'ok', userId: user.id, email, clientAddress: this.auth.addressOf(request) })
    const mcp = `${this.auth.publicUrl()}/mcp`
    return page(
      200,
      'You are the admin',
      `<h1>${escapeHtml(email)} is the admin</h1><p>Now add <code>${escapeHtml(mcp)}</code> to your MCP client (for example <code>npx mcp-remote ${escapeHtml(mcp)}</code>) and sign in with this address.</p>`,
    )
  }
}
