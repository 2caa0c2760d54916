/**
 * The first run: a loopback server with no users offers a one-time link that makes the first
 * admin; it works once, only while there are no users, and is not offered once there are.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startAuthServer, type TestServer } from '../_utils/server.ts'

let s: TestServer
beforeAll(async () => {
  s = await startAuthServer()
})
afterAll(() => s.stop())

const submit = (token: string, email: string, origin = s.url) =>
  fetch(`${s.url}/setup`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', origin }, body: new URLSearchParams({ token, email }).toString() })

test('the one-time link makes the first admin, once; afterwards no link is offered', async () => {
  const link = (await s.firstRunLink!())!
  expect(link).toStartWith(`${s.url}/setup?token=`)
  const token = new URL(link).searchParams.get('token')!
  const page = await fetch(link)
  expect(page.status).toBe(200)
  expect(await page.text()).toContain('Become the first admin')
  expect((await submit('x'.repeat(43), 'eve@example.com')).status).toBe(410)
  expect((await submit(token, 'ada@example.com', 'https://evil.example')).status).toBe(403)
  const ok = await submit(token, 'ada@example.com')
  expect(ok.status).toBe(200)
  expect(await ok.text()).toContain(`${s.url}/mcp`)
  expect(await s.auth!.stores.users.getByEmail('ada@example.com')).toMatchObject({ tier: 'admin' })
  expect((await submit(token, 'eve@example.com')).status).toBe(410)
  expect(await s.auth!.stores.users.getByEmail('eve@example.com')).toBeUndefined()
  expect(await s.firstRunLink!()).toBeUndefined()
})
