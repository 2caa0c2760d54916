/**
 * @module http/callback-page
 * The HTML pages of the emailed sign-in link. The link's GET only shows a confirmation page:
 * mail scanners that follow links (and HEAD requests) must not consume the token. The user's
 * click POSTs the form, and the result page shows the session token to paste into a client.
 * Pages embed only values this server produced and checked (a token of the exact issued shape,
 * an escaped email), and forbid framing, caching, cross-site referrers and foreign form targets
 * (http/page.ts).
 */
import { LOGIN_TOKEN_PATTERN } from '../auth/magic-link.ts'
import { escapeHtml, page } from './page.ts'

/** GET/HEAD of the emailed link: a button that signs in; the token is not consumed here. */
export function confirmationPage(token: string | null): Response {
  if (token === null || !LOGIN_TOKEN_PATTERN.test(token))
    return page(400, 'Invalid sign-in link', '<h1>This sign-in link is incomplete</h1><p>Copy the whole link from the email, or request a new one.</p>')
  return page(
    200,
    'Confirm sign-in',
    `<h1>Sign in to mcprag</h1>
<p>Press the button to finish signing in. The link works once.</p>
<form method="post" action="/auth/callback"><input type="hidden" name="token" value="${token}"><button type="submit">Sign in</button></form>
<p class="muted">If you did not ask to sign in, close this page: nothing happens until the button is pressed.</p>`,
  )
}

/** After the POST: the session token for the user to paste into an MCP or command-line client. */
export function signedInPage(r: { token: string; email: string; tier: string; expires_at: number }): Response {
  const until = new Date(r.expires_at * 1000).toISOString().replace('T', ' ').slice(0, 16)
  return page(
    200,
    'Signed in',
    `<h1>Signed in as ${escapeHtml(r.email)}</h1>
<p>Your tier is <b>${escapeHtml(r.tier)}</b>. Use this token as <code>Authorization: Bearer &lt;token&gt;</code> in your MCP client (valid until ${until} UTC):</p>
<textarea readonly>${escapeHtml(r.token)}</textarea>
<p class="muted">Keep it secret like a password. Sign out with <code>POST /auth/logout</code>.</p>`,
  )
}

export function signInFailedPage(message: string, status: number): Response {
  return page(status, 'Sign-in failed', `<h1>Sign-in failed</h1><p>${escapeHtml(message)}</p>`)
}
