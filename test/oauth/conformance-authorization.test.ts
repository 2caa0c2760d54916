/**
 * The official conformance suite's authorization-server scenarios (npm
 * @modelcontextprotocol/conformance 0.2.0-alpha.12, pinned as `conformance-alpha` beside the
 * 0.1.16 server suite): metadata, then the authorization-code grant with a pre-registered public
 * client. The suite prints the authorization URL for a person to open; the scripted browser opens
 * it, signs in by email, consents, and follows the redirect to the suite's callback.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { ensureUser, startHarness, type Harness } from '../_utils/auth.ts'
import { authorizeInBrowser } from '../_utils/browser-agent.ts'

const SUITE = 'node_modules/@modelcontextprotocol/conformance-alpha/dist/index.js'

let h: Harness
beforeAll(async () => {
  h = await startHarness()
  await ensureUser(h, 'ada@example.com', 'user')
})
afterAll(() => h.stop())

test('conformance 0.2.0-alpha.12 authorization: both scenarios pass', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000)
  const reg = await fetch(`${h.url}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_name: 'conformance', redirect_uris: [`http://127.0.0.1:${port}/callback`], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'] }),
  })
  const { client_id } = (await reg.json()) as { client_id: string }
  const outDir = `/tmp/mcprag-conformance-auth-${process.pid}`
  const proc = Bun.spawn(['bun', SUITE, 'authorization', '--url', h.url, '--client-id', client_id, '--port', String(port), '--resource', `${h.url}/mcp`, '-o', outDir], { stdout: 'pipe', stderr: 'pipe' })
  const timer = setTimeout(() => proc.kill(), 120_000)
  let out = ''
  let opened: Promise<unknown> | undefined
  const decoder = new TextDecoder()
  for await (const chunk of proc.stdout) {
    out += decoder.decode(chunk)
    const url = /(http:\/\/127\.0\.0\.1:\d+\/authorize\?\S+)/.exec(out)?.[1]
    // Open it once the suite's callback server listens.
    if (url && !opened && out.includes('Callback server started')) opened = authorizeInBrowser(url, { h, email: 'ada@example.com', follow: true })
  }
  clearTimeout(timer)
  const code = await proc.exited
  await opened
  const summary = out.slice(out.indexOf('=== SUMMARY ==='))
  if (code !== 0) console.error(out, await new Response(proc.stderr).text())
  expect(code).toBe(0)
  expect(summary).toMatch(/✓ authorization-server-metadata-endpoint: \d+ passed, 0 failed/)
  expect(summary).toMatch(/✓ authorization-code-grant: \d+ passed, 0 failed/)
  expect(summary).toMatch(/Total: \d+ passed, 0 failed/)
  // Warnings do not fail the suite's exit code, so look for them in the saved checks.
  const checks = await Array.fromAsync(new Bun.Glob('**/checks.json').scan(outDir))
  expect(checks).toHaveLength(2)
  for (const f of checks) expect({ f, warning: (await Bun.file(`${outDir}/${f}`).text()).includes('"WARNING"') }).toEqual({ f, warning: false })
  await Bun.$`rm -rf ${outDir}`.quiet()
}, 150_000)
