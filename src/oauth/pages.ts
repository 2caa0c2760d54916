/**
 * @module oauth/pages
 * The authorization server's pages: sign in (email link or GitHub), the emailed link's
 * confirmation, "check your email", consent (with the TOTP field when admin access is asked) and
 * errors. Plain forms, no JavaScript; every value from a client is escaped, and each form carries
 * the parked request's handle (`req`) and, where it changes state, its CSRF token.
 */
import { escapeHtml, page } from '../http/page.ts'
import { SCOPE_ADMIN, SCOPE_TOOLS } from '../auth/resources.ts'

const SCOPE_TEXT: Record<string, string> = {
  [SCOPE_TOOLS]: 'Use the tools your account may use',
  [SCOPE_ADMIN]: 'Use admin tools (needs a code from your authenticator app)',
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`

export function errorPage(status: number, title: string, message: string): Response {
  return page(status, title, `<h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p class="muted">You can close this page and start again from your application.</p>`)
}

export interface LoginPageOptions {
  req: string
  clientName: string
  github: boolean
  githubOrigin?: string
  /** The client's redirect: a form here can end there (remembered consent), and browsers check that. */
  redirectTarget?: string
  error?: string
}

export function loginPage(o: LoginPageOptions, status = 200): Response {
  const github = o.github
    ? `<p class="muted">or</p><form method="post" action="/oauth/github"><input type="hidden" name="req" value="${escapeHtml(o.req)}"><button type="submit" class="secondary">Sign in with GitHub</button></form>`
    : ''
  return page(
    status,
    'Sign in',
    `<h1>Sign in to mcprag</h1>
<p><b>${escapeHtml(o.clientName)}</b> wants to use mcprag on your behalf. Sign in first.</p>
${o.error ? `<p class="error">${escapeHtml(o.error)}</p>` : ''}
<form method="post" action="/oauth/login">${hidden('req', o.req)}
<label for="email">Email address</label><input type="email" id="email" name="email" required autocomplete="email">
<button type="submit">Email me a sign-in link</button></form>${github}`,
    { formTargets: [o.githubOrigin, o.redirectTarget].filter((t): t is string => t !== undefined) },
  )
}

export function emailSentPage(): Response {
  return page(
    200,
    'Check your email',
    `<h1>Check your email</h1><p>If this address may sign in, an email with a sign-in link is on its way. Open the link <b>in this browser</b> to continue.</p>
<p class="muted">The link works once and expires soon.</p>`,
  )
}

/** GET of the emailed link: a button that signs in; nothing is consumed by the GET itself. */
export function emailConfirmPage(req: string, token: string, redirectTarget?: string): Response {
  return page(
    200,
    'Confirm sign-in',
    `<h1>Sign in to mcprag</h1><p>Press the button to finish signing in. The link works once.</p>
<form method="post" action="/oauth/email">${hidden('req', req)}${hidden('token', token)}<button type="submit">Sign in</button></form>
<p class="muted">If you did not ask to sign in, close this page: nothing happens until the button is pressed.</p>`,
    { formTargets: redirectTarget ? [redirectTarget] : [] },
  )
}

export interface ConsentPageOptions {
  req: string
  csrf: string
  email: string
  clientName: string
  clientId: string
  redirectUri: string
  /** The host that published the client's metadata document (CIMD clients). */
  documentHost?: string
  loopbackOnly: boolean
  scopes: string[]
  /** Admin access was asked and may be granted: show the TOTP field. */
  askTotp: boolean
  /** Admin access was asked but cannot be granted, and why. */
  adminRefused?: string
  error?: string
  /** The redirect's form target (browsers check `form-action` on the redirect after approval). */
  redirectTarget?: string
}

export function consentPage(o: ConsentPageOptions, status = 200): Response {
  let redirectHost: string
  try {
    const u = new URL(o.redirectUri)
    redirectHost = u.host || u.protocol
  } catch {
    redirectHost = o.redirectUri
  }
  const granted = o.adminRefused ? o.scopes.filter((s) => s !== SCOPE_ADMIN) : o.scopes
  const scopes = granted.map((s) => `<li>${escapeHtml(SCOPE_TEXT[s] ?? s)} <span class="muted">(${escapeHtml(s)})</span></li>`).join('')
  return page(
    status,
    'Authorize access',
    `<h1>Allow ${escapeHtml(o.clientName)} to use mcprag?</h1>
<p>Signed in as <b>${escapeHtml(o.email)}</b>.</p>
${o.error ? `<p class="error">${escapeHtml(o.error)}</p>` : ''}
<p>The application will be able to:</p><ul class="scopes">${scopes}</ul>
${o.adminRefused ? `<p class="warn">Admin access cannot be granted: ${escapeHtml(o.adminRefused)}</p>` : ''}
<p>After you allow it, you are sent back to <b>${escapeHtml(redirectHost)}</b>.</p>
${o.documentHost ? `<p class="muted">This application is described by <b>${escapeHtml(o.documentHost)}</b>.</p>` : ''}
${o.loopbackOnly ? '<p class="warn">This application runs on your own computer (it receives the answer on a local address). Allow it only if you just started it yourself.</p>' : ''}
<p class="muted">Client id: <code>${escapeHtml(o.clientId)}</code></p>
<form method="post" action="/oauth/consent" class="inline">${hidden('req', o.req)}${hidden('csrf', o.csrf)}
${o.askTotp ? '<label for="totp_code">Code from your authenticator app</label><input type="text" id="totp_code" name="totp_code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>' : ''}
<button type="submit" name="action" value="approve">Allow</button></form>
<form method="post" action="/oauth/consent" class="inline">${hidden('req', o.req)}${hidden('csrf', o.csrf)}<button type="submit" name="action" value="deny" class="secondary">Deny</button></form>`,
    { formTargets: o.redirectTarget ? [o.redirectTarget] : [] },
  )
}
