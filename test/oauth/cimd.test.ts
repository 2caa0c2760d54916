/**
 * Client ID Metadata Documents (security checklist cases 7 and 8). The network is a spy: DNS
 * answers and HTTP responses come from the test, and every connection the fetcher tries is
 * recorded, so "no connection made" is checked, and no packet ever leaves this machine even when
 * a guard is broken. Case 8 runs the authorization server over real HTTP on loopback, with the
 * same spy as its network.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Elysia } from 'elysia'
import { CimdClients, type Lookup, type PinnedFetch } from '../../src/oauth/cimd.ts'
import { oauthRoutes } from '../../src/oauth/oauth-routes.ts'
import { Resources } from '../../src/auth/resources.ts'
import { memoryOAuthStores } from '../../src/stores/memory/memory-oauth-stores.ts'
import { HttpGuard } from '../../src/transports/http-guard.ts'
import { ensureUser, startHarness, type Harness } from '../_utils/auth.ts'
import { authorizeInBrowser } from '../_utils/browser-agent.ts'
import { authorizeUrl } from '../_utils/oauth.ts'

const DOC_URL = 'https://app.example/oauth/client.json'
const PUBLIC_IP = '93.184.215.14'

/** DNS and HTTP as the test says; `connections` lists every URL the fetcher tried. */
function spyNetwork(names: Record<string, string[]>, serve: (url: string, host: string) => Response | Promise<Response>) {
  const connections: string[] = []
  const lookup: Lookup = async (host) => {
    const addresses = names[host]
    if (!addresses) throw new Error('ENOTFOUND')
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }))
  }
  const fetch: PinnedFetch = async (url, init) => {
    connections.push(url)
    return serve(url, new Headers(init.headers).get('host') ?? '')
  }
  return { connections, lookup, fetch }
}

const doc = (clientId: string, extra: Record<string, unknown> = {}) =>
  Response.json({ client_id: clientId, client_name: 'Example App', redirect_uris: ['http://127.0.0.1:1/cb'], token_endpoint_auth_method: 'none', ...extra })

describe('7. the fetch is fenced: private targets, wrong documents, large or slow answers', () => {
  test('private, loopback and link-local targets (literal, by name, or by redirect) are refused with no connection made', async () => {
    const net = spyNetwork({ 'internal.example': ['10.0.0.1'], 'rebind.example': ['93.184.215.14', '127.0.0.1'], 'app.example': [PUBLIC_IP] }, (url) =>
      url.includes(PUBLIC_IP) ? new Response(null, { status: 302, headers: { location: 'https://169.254.169.254/latest/meta-data' } }) : new Response('no', { status: 500 }),
    )
    const cimd = new CimdClients({ privateSchemes: [], now: Date.now, ...net })
    for (const id of ['https://10.0.0.1/x', 'https://127.0.0.1:6379/x', 'https://169.254.169.254/latest/meta-data', 'https://[::1]/x', 'https://[::ffff:127.0.0.1]/x', 'https://internal.example/x', 'https://rebind.example/x']) {
      const r = await cimd.get(id)
      expect({ id, ok: r.ok }).toEqual({ id, ok: false })
    }
    expect(net.connections).toEqual([])
    // A public host that redirects inward: the redirect is refused, not followed.
    const redirected = await cimd.get('https://app.example/client.json')
    expect(redirected).toMatchObject({ ok: false, reason: expect.stringContaining('302') })
    expect(net.connections).toEqual([`https://${PUBLIC_IP}/client.json`])
  })

  test('the connection goes to the address that was checked, with the real host name for TLS and Host', async () => {
    let seenHost = ''
    const net = spyNetwork({ 'app.example': [PUBLIC_IP] }, (_url, host) => {
      seenHost = host
      return doc(DOC_URL)
    })
    const r = await new CimdClients({ privateSchemes: [], now: Date.now, ...net }).get(DOC_URL)
    expect(r.ok).toBe(true)
    expect(net.connections).toEqual([`https://${PUBLIC_IP}/oauth/client.json`])
    expect(seenHost).toBe('app.example')
  })

  test('a document naming another client_id, a confidential method, non-https ids, 65 KiB or 6 s answers are refused', async () => {
    const cases: [string, string, () => Response | Promise<Response>][] = [
      ['other client_id', DOC_URL, () => doc('https://elsewhere.example/client.json')],
      ['a secret-based client', DOC_URL, () => doc(DOC_URL, { token_endpoint_auth_method: 'client_secret_post' })],
      ['65 KiB', DOC_URL, () => doc(DOC_URL, { pad: 'x'.repeat(65 * 1024) })],
      ['65 KiB undeclared', DOC_URL, () => new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(`{"client_id":"${DOC_URL}","pad":"${'x'.repeat(65 * 1024)}"}`)); c.close() } }))],
      ['not JSON', DOC_URL, () => new Response('<html>')],
      ['a bad redirect URI in the document', DOC_URL, () => doc(DOC_URL, { redirect_uris: ['javascript:alert(1)'] })],
    ]
    for (const [what, id, serve] of cases) {
      const net = spyNetwork({ 'app.example': [PUBLIC_IP] }, serve)
      const r = await new CimdClients({ privateSchemes: [], now: Date.now, ...net }).get(id)
      expect({ what, ok: r.ok }).toEqual({ what, ok: false })
    }
    for (const id of ['http://app.example/client.json', 'https://app.example/', 'https://u:p@app.example/c', 'https://app.example/a/../c']) {
      const net = spyNetwork({ 'app.example': [PUBLIC_IP] }, () => doc(id))
      expect({ id, ok: (await new CimdClients({ privateSchemes: [], now: Date.now, ...net }).get(id)).ok }).toEqual({ id, ok: false })
      expect(net.connections).toEqual([])
    }
    // Slow: the fetcher gives up at its time limit (a short one here, 6 s would be the real case's answer time).
    const slow = spyNetwork({ 'app.example': [PUBLIC_IP] }, async () => {
      await Bun.sleep(300)
      return doc(DOC_URL)
    })
    const timed = new CimdClients({ privateSchemes: [], now: Date.now, timeoutMs: 50, ...slow, fetch: (url, init) => Promise.race([slow.fetch(url, init), new Promise<Response>((_, reject) => init.signal!.addEventListener('abort', () => reject(init.signal!.reason)))]) })
    expect(await timed.get(DOC_URL)).toMatchObject({ ok: false, reason: expect.stringContaining('timed out') })
  })

  test('answers are cached: a second lookup makes no second connection', async () => {
    const net = spyNetwork({ 'app.example': [PUBLIC_IP] }, () => doc(DOC_URL))
    const cimd = new CimdClients({ privateSchemes: [], now: Date.now, ...net })
    expect((await cimd.get(DOC_URL)).ok).toBe(true)
    expect((await cimd.get(DOC_URL)).ok).toBe(true)
    expect(net.connections).toHaveLength(1)
  })
})

describe('8. a metadata-document client through the authorization endpoint', () => {
  let h: Harness
  let stop: () => Promise<void>
  let url = ''
  const net = spyNetwork({ 'app.example': [PUBLIC_IP] }, () => doc(DOC_URL, { redirect_uris: ['http://127.0.0.1:1/cb'] }))
  beforeAll(async () => {
    h = await startHarness()
    await ensureUser(h, 'ada@example.com', 'user')
    // The authorization server alone, over real HTTP on loopback, with the spy as its network.
    const resources = new Resources({ issuer: () => url, endpoints: ['/mcp'] })
    const guard = new HttpGuard({ allowedHosts: ['127.0.0.1'], allowedOrigins: [] })
    const app = new Elysia().use(
      oauthRoutes({
        auth: h.server.auth!,
        stores: memoryOAuthStores(),
        resources,
        guard,
        settings: { accessTokenTtlMs: 1_800_000, grantTtlMs: 86_400_000, redirectSchemes: [], registerPerAddress: { max: 100, windowMs: 60_000 } },
        cimdNetwork: net,
      }),
    )
    app.listen({ hostname: '127.0.0.1', port: 0 })
    stop = async () => void (await app.stop(true))
    url = `http://127.0.0.1:${app.server!.port}`
    guard.allowOrigin(url)
  })
  afterAll(async () => {
    await stop()
    await h.stop()
  })

  test('a redirect_uri the document does not list is a 400 page, never a redirect', async () => {
    const started = authorizeUrl({ ...h, url }, DOC_URL, { redirect_uri: 'http://127.0.0.1:1/not-listed', resource: `${url}/mcp` })
    const res = await fetch(started.url, { redirect: 'manual' })
    expect(res.status).toBe(400)
    expect(res.headers.get('location')).toBeNull()
  })

  test('the consent page names the document host and the redirect host, and warns about a loopback-only redirect', async () => {
    const started = authorizeUrl({ ...h, url }, DOC_URL, { resource: `${url}/mcp` })
    const { redirect, html } = await authorizeInBrowser(started.url, { h: { ...h, url }, email: 'ada@example.com' })
    const consent = html['/oauth/consent']!
    expect(consent).toContain('Example App')
    expect(consent).toContain('described by <b>app.example</b>')
    expect(consent).toContain('sent back to <b>127.0.0.1:1</b>')
    expect(consent).toContain('runs on your own computer')
    expect(redirect.searchParams.get('code')).toBeTruthy()
    expect(net.connections).toEqual([`https://${PUBLIC_IP}/oauth/client.json`])
  }, 30_000)
})
