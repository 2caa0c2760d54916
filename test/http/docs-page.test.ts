/**
 * /docs in headless Chromium, as a person uses it: the Swagger UI page loads, Authorize takes a
 * real bearer token, "Try it out" runs the `echo` tool against the live server and the page shows
 * the result. Every request the browser makes is intercepted: one that leaves loopback fails the
 * test (the page must work offline). A screenshot goes to test-results/docs.png (gitignored).
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { existsSync, mkdirSync } from 'node:fs'
import { chromium, type Browser } from 'playwright-core'
import { signIn, startHarness, type Harness, type Login } from '../_utils/auth.ts'

const CHROMIUM = '/usr/bin/chromium'
const SCREENSHOT = 'test-results/docs.png'
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]'])

if (!existsSync(CHROMIUM)) console.warn(`skipping the /docs browser test: ${CHROMIUM} is missing (apt-get install chromium)`)

describe.skipIf(!existsSync(CHROMIUM))('/docs in headless Chromium', () => {
  let h: Harness
  let user: Login
  let browser: Browser
  beforeAll(async () => {
    h = await startHarness()
    user = await signIn(h, 'docs@example.com', 'user')
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
    })
  })
  afterAll(async () => {
    await browser?.close()
    await h?.stop()
  })

  test('authorize with a token, execute echo, read the result; nothing leaves loopback', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 1600 } })
    const requested: string[] = []
    const offLoopback: string[] = []
    await context.route('**/*', (route) => {
      const url = new URL(route.request().url())
      requested.push(`${route.request().method()} ${url.pathname}`)
      if ((url.protocol === 'http:' || url.protocol === 'https:') && !LOOPBACK.has(url.hostname)) {
        offLoopback.push(url.href)
        return route.abort('blockedbyclient')
      }
      return route.continue()
    })
    const page = await context.newPage()
    const consoleErrors: string[] = []
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text())
    })

    await page.goto(`${h.url}/docs`)
    await page.locator('.swagger-ui .info .title', { hasText: 'mcprag' }).waitFor()

    // Authorize: paste the token into the bearer scheme's field.
    await page.locator('button.authorize').first().click()
    const bearer = page.locator('.auth-container', { hasText: 'bearer' }).first()
    await bearer.locator('input').fill(user.token)
    await bearer.locator('button.authorize').click()
    await page.locator('.modal-ux button.btn-done').first().click()

    // Try it out: the echo tool's own operation, with its body, against the live server.
    const operation = page.locator('.opblock', { has: page.locator('[data-path="/mcp/tool/echo"]') })
    await operation.locator('.opblock-summary').click()
    const tryItOut = operation.locator('button.try-out__btn', { hasText: 'Try it out' })
    if (await tryItOut.isVisible()) await tryItOut.click()
    await operation.locator('textarea.body-param__text').fill(JSON.stringify({ text: 'hello from the docs page' }))
    await operation.locator('button.execute').click()

    const live = operation.locator('.live-responses-table')
    await live.locator('.response-col_status', { hasText: '200' }).first().waitFor()
    const body = await live.locator('.response-col_description .microlight').first().innerText()
    expect(JSON.parse(body)).toEqual({ result: { content: [{ type: 'text', text: 'hello from the docs page' }] } })
    // The curl line the page shows carries the pasted token: it really was sent.
    expect(await operation.locator('.curl-command').innerText()).toContain(`Bearer ${user.token}`)

    mkdirSync('test-results', { recursive: true })
    await live.scrollIntoViewIfNeeded()
    await page.screenshot({ path: SCREENSHOT })

    expect(offLoopback).toEqual([])
    expect(requested).toContain('GET /docs/assets/swagger-ui-bundle.js')
    expect(requested).toContain('GET /docs/assets/swagger-ui.css')
    expect(requested).toContain('GET /openapi.json')
    expect(requested).toContain('POST /mcp/tool/echo')
    // A CSP violation or a failed load would show here.
    expect(consoleErrors.filter((e) => !e.includes('favicon'))).toEqual([])
    await context.close()
  }, 90_000)
})
