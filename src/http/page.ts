/**
 * @module http/page
 * The server's few HTML pages (sign-in, consent), built one way: plain forms that work without
 * JavaScript, under a CSP that allows no script, no framing (`frame-ancestors 'none'`) and form
 * targets only on this server plus the few destinations a page's form may end up at (an OAuth
 * client's redirect, GitHub's sign-in): browsers apply `form-action` to a form's redirects too.
 *
 * `Referrer-Policy: same-origin`: the pages' URLs may carry a one-time token, which must not leak
 * to other sites; but `no-referrer` would make the browser send `Origin: null` with the page's own
 * form POST, which the Origin guard (rightly) refuses. With `same-origin` the POST carries this
 * server's origin and other sites get no referrer.
 */

export const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!)

/** A CSP source for a form target URL: its origin, or its scheme for a private-use scheme (`cursor:`). */
export function formTarget(url: string): string | undefined {
  try {
    const u = new URL(url)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : u.protocol
  } catch {
    return undefined
  }
}

export function pageHeaders(formTargets: readonly string[] = []): Record<string, string> {
  const targets = [...new Set(formTargets)].filter((t) => /^[a-z][a-z0-9+.-]*:(\/\/[^\s;,']+)?$/i.test(t))
  return {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'referrer-policy': 'same-origin',
    'x-frame-options': 'DENY',
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'none'; style-src 'unsafe-inline'; form-action 'self'${targets.map((t) => ` ${t}`).join('')}; frame-ancestors 'none'; base-uri 'none'`,
  }
}

export function page(status: number, title: string, body: string, opts: { formTargets?: readonly string[]; headers?: Record<string, string> } = {}): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${escapeHtml(title)} · mcprag</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1a1a1a}
h1{font-size:1.4rem}button{font:inherit;padding:.6rem 1.4rem;border:0;border-radius:.4rem;background:#1f5fbf;color:#fff;cursor:pointer}
button.secondary{background:#e8e8e8;color:#1a1a1a}input[type=email],input[type=text]{font:inherit;padding:.5rem;width:100%;box-sizing:border-box;margin:.3rem 0 .8rem}
code,textarea{font:13px/1.4 ui-monospace,monospace}textarea{width:100%;height:7rem;word-break:break-all}.muted{color:#666;font-size:.9rem}
.warn{background:#fff4d6;padding:.6rem .8rem;border-radius:.4rem}.error{background:#fde2e1;padding:.6rem .8rem;border-radius:.4rem}
ul.scopes li{margin:.3rem 0}form.inline{display:inline-block;margin-right:.6rem}
</style></head><body>${body}</body></html>`
  return new Response(html, { status, headers: { ...pageHeaders(opts.formTargets), ...opts.headers } })
}
