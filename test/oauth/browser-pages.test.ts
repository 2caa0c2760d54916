/**
 * Every sign-in, consent and TOTP page clicked through in headless Chromium, as a person does:
 * the emailed link's confirmation page of the REST sign-in (whose form POST once carried
 * `Origin: null` and was refused), and the authorization server's email sign-in, consent with a
 * TOTP code, and GitHub button, ending at the client's loopback redirect. Nothing may leave
 * loopback, and the pages must raise no console error (a CSP violation would).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync } from 'node:fs'
import type { TOTP } from 'otpauth'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import { enrolTotp, requestLogin, signIn, startHarness, type Harness } from '../_utils/auth.ts'
import { freshCode } from '../_utils/browser-agent.ts'
import { startFakeGithub, type FakeGithub } from '../_utils/fake-github.ts'
import { authorizeUrl, publicClient } from '../_utils/oauth.ts'
import { parseLoginMail } from '../_utils/smtp.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

describe.skipIf(!existsSync(CHROMIUM))('the sign-in pages in headless Chromium', () => {
  let h: Harness
  let gh: FakeGithub
  let totp: TOTP
  let browser: Browser
  /** The client's loopback callback: what the browser finally lands on. */
  let callback: ReturnType<typeof Bun.serve>
  const landed: URL[] = []
  beforeAll(async () => {
    gh = startFakeGithub('gh-client', 'gh-secret')
    h = await startHarness({ GITHUB_CLIENT_ID: 'gh-client', GITHUB_CLIENT_SECRET: 'gh-secret', GITHUB_OAUTH_URL: gh.url, GITHUB_API_URL: gh.url })
    totp = await enrolTotp(h, await signIn(h, 'ada@example.com', 'admin'))
    callback = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch(req) {
        landed.push(new URL(req.url))
        return new Response('<!doctype html><title>done</title><p>You can close this window.</p>', { headers: { 'content-type': 'text/html' } })
      },
    })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
  })
  afterAll(async () => {
    await browser?.close()
    callback?.stop(true)
    await h?.stop()
    gh?.stop()
  })

  /** A fresh browser profile that refuses to leave loopback and records console errors. */
  async function profile(): Promise<{ context: BrowserContext; errors: string[]; offLoopback: string[] }> {
    const context = await browser.newContext()
    const errors: string[] = []
    const offLoopback: string[] = []
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url())
      if ((url.protocol === 'http:' || url.protocol === 'https:') && !LOOPBACK.has(url.hostname)) {
        offLoopback.push(url.href)
        return route.abort('blockedbyclient')
      }
      return route.continue()
    })
    context.on('console', (m) => {
      if (m.type() === 'error' && !m.text().includes('favicon')) errors.push(m.text())
    })
    return { context, errors, offLoopback }
  }

  test('the emailed link of the REST sign-in: the confirmation button signs in (its POST carries a real Origin)', async () => {
    const { context, errors, offLoopback } = await profile()
    const page = await context.newPage()
    const { link } = await requestLogin(h, 'ada@example.com')
    await page.goto(link)
    const post = page.waitForRequest((r) => r.method() === 'POST' && r.url().endsWith('/auth/callback'))
    await page.getByRole('button', { name: 'Sign in' }).click()
    expect(await (await post).headerValue('origin')).toBe(h.url)
    await page.getByRole('heading', { name: 'Signed in as ada@example.com' }).waitFor()
    expect(await page.locator('textarea').inputValue()).toMatch(/^eyJ/)
    expect(errors).toEqual([])
    expect(offLoopback).toEqual([])
    await context.close()
  }, 60_000)

  test('OAuth: email sign-in, consent with a TOTP code for admin access, back to the client with code, state and iss', async () => {
    const { context, errors, offLoopback } = await profile()
    const page = await context.newPage()
    const redirect = `http://127.0.0.1:${callback.port}/cb`
    const clientId = await publicClient(h, [redirect], { client_name: 'Chromium <b>test</b> app' })
    const started = authorizeUrl(h, clientId, { redirect_uri: redirect, scope: 'mcp:tools mcp:admin' })
    await page.goto(started.url)
    await page.getByLabel('Email address').fill('ada@example.com')
    const before = h.smtp.to('ada@example.com').length
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click()
    await page.getByRole('heading', { name: 'Check your email' }).waitFor()
    const { link } = parseLoginMail(await h.smtp.waitFor('ada@example.com', before + 1))
    await page.goto(link)
    await page.getByRole('button', { name: 'Sign in' }).click()
    // The client's name is shown as text, never as markup.
    await page.getByRole('heading', { name: 'Allow Chromium <b>test</b> app to use mcprag?' }).waitFor()
    await page.getByLabel('Code from your authenticator app').fill(await freshCode(totp))
    const count = landed.length
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.getByText('You can close this window.').waitFor()
    expect(landed.length).toBe(count + 1)
    const to = landed.at(-1)!
    expect(to.searchParams.get('code')).toMatch(/^mco_/)
    expect(to.searchParams.get('state')).toBe(started.state)
    expect(to.searchParams.get('iss')).toBe(h.url)
    expect(errors).toEqual([])
    expect(offLoopback).toEqual([])
    await context.close()
  }, 90_000)

  test('OAuth: a wrong TOTP code shows the consent page again with the error; Deny sends access_denied', async () => {
    const { context, errors } = await profile()
    const page = await context.newPage()
    const redirect = `http://127.0.0.1:${callback.port}/cb`
    const clientId = await publicClient(h, [redirect])
    await page.goto(authorizeUrl(h, clientId, { redirect_uri: redirect, scope: 'mcp:tools mcp:admin' }).url)
    await page.getByLabel('Email address').fill('ada@example.com')
    const before = h.smtp.to('ada@example.com').length
    await page.getByRole('button', { name: 'Email me a sign-in link' }).click()
    await page.goto(parseLoginMail(await h.smtp.waitFor('ada@example.com', before + 1)).link)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.getByLabel('Code from your authenticator app').fill('000000')
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.locator('.error').waitFor()
    const count = landed.length
    await page.getByRole('button', { name: 'Deny' }).click()
    await page.getByText('You can close this window.').waitFor()
    expect(landed.length).toBe(count + 1)
    expect(landed.at(-1)!.searchParams.get('error')).toBe('access_denied')
    // The refused code's page is answered 401, which Chromium reports; nothing else.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 401 (Unauthorized)'])
    await context.close()
  }, 60_000)

  test('OAuth: the GitHub button goes to GitHub and back to consent', async () => {
    gh.next = { id: 7, login: 'ada', emails: [{ email: 'ada@example.com', primary: true, verified: true }] }
    const { context, errors, offLoopback } = await profile()
    const page = await context.newPage()
    const redirect = `http://127.0.0.1:${callback.port}/cb`
    const clientId = await publicClient(h, [redirect])
    await page.goto(authorizeUrl(h, clientId, { redirect_uri: redirect }).url)
    await page.getByRole('button', { name: 'Sign in with GitHub' }).click()
    await page.getByRole('button', { name: 'Allow' }).click()
    await page.getByText('You can close this window.').waitFor()
    expect(landed.at(-1)!.searchParams.get('code')).toMatch(/^mco_/)
    // Another browser, same user and client: consent is remembered, so the GitHub button leads
    // straight back to the client (the sign-in page's form-action allows that last redirect).
    const other = await profile()
    const page2 = await other.context.newPage()
    const count = landed.length
    await page2.goto(authorizeUrl(h, clientId, { redirect_uri: redirect }).url)
    await page2.getByRole('button', { name: 'Sign in with GitHub' }).click()
    await page2.getByText('You can close this window.').waitFor()
    expect(landed.length).toBe(count + 1)
    expect(landed.at(-1)!.searchParams.get('code')).toMatch(/^mco_/)
    expect([...errors, ...other.errors]).toEqual([])
    expect([...offLoopback, ...other.offLoopback]).toEqual([])
    await other.context.close()
    await context.close()
  }, 60_000)
})
