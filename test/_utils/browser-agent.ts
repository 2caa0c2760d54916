/**
 * The scripted browser of the OAuth end-to-end tests: a cookie jar that opens an authorization URL
 * and does what a person does, through the real pages and the real magic-link email: it submits
 * the sign-in form, reads the link from the test SMTP server, confirms it, reads the consent form
 * (CSRF token and all), types a TOTP code when one is asked, and stops at the redirect to the
 * client, which it follows for real when the client is listening (mcp-remote, the Inspector).
 *
 * Command-line clients open a browser through `$BROWSER`; `browserCommand()` writes a tiny
 * executable that hands the URL to this agent (`serveAgent`) over loopback HTTP.
 */
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TOTP } from 'otpauth'
import type { Harness } from './auth.ts'
import { parseLoginMail } from './smtp.ts'

export interface AgentOptions {
  h: Harness
  email: string
  /** The user's authenticator, for consent pages that ask for a code. */
  totp?: TOTP
  /** Press Deny instead of Allow. */
  deny?: boolean
  /** GET the client's redirect for real (a listening client), rather than only returning it. */
  follow?: boolean
  /** Change the redirect before following it (a mix-up attacker rewriting `iss`). */
  tamper?: (redirect: URL) => void
  /** The browser's cookies, kept across sign-ins (default: a new browser each time). */
  jar?: CookieJar
  /** Sign in with GitHub (the button) instead of by email; GitHub's origin is followed like ours. */
  github?: string
}

export interface AgentResult {
  /** Where the server finally sent the browser: the client's redirect URI with code or error. */
  redirect: URL
  /** The pages the agent saw, by path (e.g. /oauth/login, /oauth/consent). */
  pages: string[]
  /** The HTML of the last page seen at each path. */
  html: Record<string, string>
}

/** TOTP steps already used per secret: a code is accepted once (replay-proof), so wait for a new step. */
const usedSteps = new Map<string, number>()

export async function freshCode(totp: TOTP): Promise<string> {
  const key = totp.secret.base32
  for (;;) {
    const step = Math.floor(Date.now() / 30_000)
    // Keep 2 s away from a step boundary so the code is still current when it arrives.
    if (step > (usedSteps.get(key) ?? -1) && Date.now() % 30_000 < 28_000) {
      usedSteps.set(key, step)
      return totp.generate({ timestamp: step * 30_000 + 1000 })
    }
    await Bun.sleep(250)
  }
}

export class CookieJar {
  readonly cookies = new Map<string, string>()
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
  take(res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';')
      const eq = pair!.indexOf('=')
      this.cookies.set(pair!.slice(0, eq).trim(), pair!.slice(eq + 1).trim())
    }
  }
}

const hiddenField = (html: string, name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1]?.replaceAll('&amp;', '&')

export async function authorizeInBrowser(start: string, o: AgentOptions): Promise<AgentResult> {
  const jar = o.jar ?? new CookieJar()
  const origin = new URL(o.h.url).origin
  const pages: string[] = []
  const html: Record<string, string> = {}
  const request = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(), accept: 'text/html' } })
    jar.take(res)
    return res
  }
  /** Submit a form as a browser does: urlencoded, with the page's origin. */
  const submit = (path: string, fields: Record<string, string>) =>
    request(`${origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: new URLSearchParams(fields).toString() })

  let res = await request(start)
  for (let hops = 0; hops < 20; hops++) {
    if (res.status >= 300 && res.status < 400) {
      const location = new URL(res.headers.get('location')!, origin)
      if (o.github && location.origin === new URL(o.github).origin) {
        res = await fetch(location.href, { redirect: 'manual' })
        continue
      }
      if (location.origin !== origin) {
        o.tamper?.(location)
        if (o.follow) await fetch(location.href).then((r) => r.text())
        return { redirect: location, pages, html }
      }
      res = await request(location.href)
      continue
    }
    const path = new URL(res.url || start).pathname
    const body = await res.text()
    if (res.status !== 200) throw new Error(`the agent got ${res.status} at ${path}: ${body.slice(0, 600)}`)
    const page = body.includes('action="/oauth/login"') ? '/oauth/login' : body.includes('action="/oauth/email"') ? '/oauth/email' : body.includes('action="/oauth/consent"') ? '/oauth/consent' : path
    html[page] = body
    if (page === '/oauth/login' && o.github) {
      pages.push('/oauth/login')
      res = await submit('/oauth/github', { req: hiddenField(body, 'req')! })
    } else if (page === '/oauth/login') {
      pages.push('/oauth/login')
      const before = o.h.smtp.to(o.email).length
      const sent = await submit('/oauth/login', { req: hiddenField(body, 'req')!, email: o.email })
      if (sent.status !== 200) throw new Error(`sign-in form: ${sent.status} ${await sent.text()}`)
      await sent.text()
      const { link } = parseLoginMail(await o.h.smtp.waitFor(o.email, before + 1))
      res = await request(link)
    } else if (page === '/oauth/email') {
      pages.push('/oauth/email')
      res = await submit('/oauth/email', { req: hiddenField(body, 'req')!, token: hiddenField(body, 'token')! })
    } else if (page === '/oauth/consent') {
      pages.push('/oauth/consent')
      const fields: Record<string, string> = { req: hiddenField(body, 'req')!, csrf: hiddenField(body, 'csrf')!, action: o.deny ? 'deny' : 'approve' }
      if (!o.deny && body.includes('name="totp_code"')) {
        if (!o.totp) throw new Error('the consent page asks for a TOTP code and the agent has no authenticator')
        fields.totp_code = await freshCode(o.totp)
      }
      res = await submit('/oauth/consent', fields)
    } else throw new Error(`the agent does not know this page (${path}): ${body.slice(0, 400)}`)
  }
  throw new Error('the agent followed too many pages')
}

/**
 * A loopback endpoint that runs the agent for each URL posted to it, and an executable for
 * `$BROWSER` that posts its argument there. Returns the command and a stop function.
 */
export function serveAgent(o: Omit<AgentOptions, 'follow'>): { command: string; opened: string[]; results: AgentResult[]; errors: string[]; stop(): void } {
  const opened: string[] = []
  const results: AgentResult[] = []
  const errors: string[] = []
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(req) {
      const url = await req.text()
      opened.push(url)
      try {
        results.push(await authorizeInBrowser(url, { ...o, follow: true }))
        return new Response('ok')
      } catch (err) {
        errors.push(String(err))
        return new Response(String(err), { status: 500 })
      }
    },
  })
  const dir = mkdtempSync(join(tmpdir(), 'mcprag-agent-'))
  const command = join(dir, 'browser')
  writeFileSync(command, `#!/bin/sh\nexec ${process.execPath} -e 'await fetch(process.argv[1], { method: "POST", body: process.argv[2] })' "http://127.0.0.1:${server.port}/" "$1"\n`)
  chmodSync(command, 0o755)
  return { command, opened, results, errors, stop: () => void server.stop(true) }
}
