/**
 * TOTP enrolment and POST /auth/verify-mfa over a real port (security.md §2.2; T-A6, T-A7, T-A8,
 * T-C3, T-D1, T-E8, T-E12). Each user's codes are spent step by step, so tests use their own users.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { awayFromStepBoundary, bearer, codeAt, enrolTotp, mcpCall, mcpSession, restPost, signIn, startEnrolment, startHarness, verifyMfa, type Harness } from '../_utils/auth.ts'
import { totpFor } from '../../src/auth/totp.ts'
import { parseEnrolmentMail } from '../_utils/smtp.ts'

let h: Harness
beforeAll(async () => {
  h = await startHarness({ MCPRAG_MFA_MAX_FAILURES: '5', MCPRAG_MFA_LOCKOUT_S: '900' })
})
afterAll(() => h.stop())

const callAdminTool = (token: string) => restPost(`${h.url}/mcp/tool/audit_query`, { limit: 1 }, bearer(token))

describe('enrolment', () => {
  test('enroll returns an otpauth URI, the secret and a PNG QR code; confirm with a first code enrols and verifies the session', async () => {
    const login = await signIn(h, 'enrol@example.com', 'admin')
    const res = await startEnrolment(h, login)
    expect(res.status).toBe(200)
    expect(res.headers.get('cache-control')).toBe('no-store')
    const body = (await res.json()) as { otpauth_uri: string; secret: string; qr_code: string }
    expect(body.otpauth_uri).toStartWith('otpauth://totp/mcprag:enrol%40example.com?')
    expect(body.otpauth_uri).toContain('digits=6')
    expect(body.otpauth_uri).toContain('period=30')
    expect(body.secret).toMatch(/^[A-Z2-7]{32}$/)
    expect(body.qr_code).toStartWith('data:image/png;base64,')
    const png = Buffer.from(body.qr_code.slice('data:image/png;base64,'.length), 'base64')
    expect(png.subarray(1, 4).toString()).toBe('PNG')
    // Not confirmed yet: verification is refused, admin tools too.
    expect((await verifyMfa(h, login, '123456')).status).toBe(400)
    expect((await callAdminTool(login.token)).status).toBe(403)
    const totp = totpFor(body.secret)
    await awayFromStepBoundary()
    const confirm = await restPost(`${h.url}/auth/totp/confirm`, { totp_code: codeAt(totp) }, bearer(login.token))
    expect(confirm.status).toBe(200)
    expect(await confirm.json()).toMatchObject({ enrolled: true, mfa_verified: true, mfa_expires_at: expect.any(Number) })
    expect((await callAdminTool(login.token)).status).toBe(200)
    // The database holds the secret encrypted only.
    const dump = ['mcprag.db', 'mcprag.db-wal'].map((f) => readFileSync(join(h.server.dataDir!, f)).toString('latin1')).join('')
    expect(dump).not.toContain(body.secret)
  })

  test('replacing a confirmed authenticator needs a fresh verification first', async () => {
    const login = await signIn(h, 're-enrol@example.com', 'user')
    await enrolTotp(h, login)
    const other = await signIn(h, 're-enrol@example.com')
    const refused = await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(other.token))
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: 'mfa_required' })
    // The session that just verified may.
    expect((await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(login.token))).status).toBe(200)
  })

  test('a first enrolment proves the mailbox again: a code is emailed, bound to the session that asked (issue 13, I1)', async () => {
    const owner = await signIn(h, 'first@example.com', 'admin')
    const stolen = await signIn(h, 'first@example.com')
    const before = h.smtp.to('first@example.com').length
    const asked = await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(owner.token))
    expect(asked.status).toBe(202)
    const answer = (await asked.json()) as Record<string, unknown>
    expect(answer).toMatchObject({ status: 'enrolment_code_sent', next: expect.stringContaining('enrolment_code') })
    expect(answer.secret).toBeUndefined()
    const code = parseEnrolmentMail(await h.smtp.waitFor('first@example.com', before + 1))
    // A bearer token alone gets no secret; the owner's code does not work for another session.
    const noCode = await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(stolen.token))
    expect(noCode.status).toBe(202)
    const wrongSession = await restPost(`${h.url}/auth/totp/enroll`, { enrolment_code: code }, bearer(stolen.token))
    expect(wrongSession.status).toBe(401)
    expect(await wrongSession.json()).toMatchObject({ error: 'invalid_code' })
    for (const bad of ['enr_' + 'A'.repeat(43), 'nope', 42])
      expect((await restPost(`${h.url}/auth/totp/enroll`, { enrolment_code: bad }, bearer(stolen.token))).status).toBe(401)
    // The code was spent by the attempt above: the owner asks again, and the new code works once.
    expect((await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(owner.token))).status).toBe(202)
    const second = parseEnrolmentMail(await h.smtp.waitFor('first@example.com', before + 3))
    const ok = await restPost(`${h.url}/auth/totp/enroll`, { enrolment_code: second }, bearer(owner.token))
    expect(ok.status).toBe(200)
    expect(((await ok.json()) as { secret: string }).secret).toMatch(/^[A-Z2-7]{32}$/)
    expect((await restPost(`${h.url}/auth/totp/enroll`, { enrolment_code: second }, bearer(owner.token))).status).toBe(401)
    expect((await callAdminTool(stolen.token)).status).toBe(403)
  })

  test("a re-enrolment the owner leaves pending is no way in for a stolen session (issue 13, M3)", async () => {
    const owner = await signIn(h, 'takeover@example.com', 'admin')
    const stolen = await signIn(h, 'takeover@example.com')
    const old = await enrolTotp(h, owner) // spends the previous step; the owner's session is verified
    expect((await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(stolen.token))).status).toBe(403)
    // The owner starts replacing the authenticator and walks away.
    const started = await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(owner.token))
    expect(started.status).toBe(200)
    const pending = totpFor(((await started.json()) as { secret: string }).secret)
    // The stolen session still cannot enrol its own, nor confirm the owner's, nor call admin tools.
    const refused = await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(stolen.token))
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: 'mfa_required' })
    await awayFromStepBoundary()
    const confirmed = await restPost(`${h.url}/auth/totp/confirm`, { totp_code: codeAt(pending) }, bearer(stolen.token))
    expect(confirmed.status).toBe(400)
    expect(await confirmed.json()).toMatchObject({ error: 'not_enrolled' })
    expect((await callAdminTool(stolen.token)).status).toBe(403)
    // The owner's authenticator keeps working meanwhile, on any of the owner's sessions.
    const third = await signIn(h, 'takeover@example.com')
    expect((await verifyMfa(h, third, codeAt(old))).status).toBe(200)
  })

  test('starting an enrolment resets no failure count and no lock (issue 13, M3)', async () => {
    const owner = await signIn(h, 'counted@example.com', 'admin')
    const old = await enrolTotp(h, owner)
    const guesser = await signIn(h, 'counted@example.com')
    await awayFromStepBoundary()
    const wrong = String((Number(codeAt(old)) + 1) % 1_000_000).padStart(6, '0')
    for (let i = 0; i < 3; i++) expect((await verifyMfa(h, guesser, wrong)).status).toBe(401)
    expect((await restPost(`${h.url}/auth/totp/enroll`, {}, bearer(owner.token))).status).toBe(200)
    expect((await verifyMfa(h, guesser, wrong)).status).toBe(401)
    const locked = await verifyMfa(h, guesser, wrong)
    expect(locked.status).toBe(429)
    expect(await locked.json()).toMatchObject({ error: 'mfa_locked' })
  })

  test('enrolment routes need a bearer token', async () => {
    expect((await restPost(`${h.url}/auth/totp/enroll`, {})).status).toBe(401)
    expect((await restPost(`${h.url}/auth/totp/confirm`, { totp_code: '123456' })).status).toBe(401)
  })
})

describe('POST /auth/verify-mfa', () => {
  test('a valid code marks this session verified for admin tools, on REST and MCP alike; the answer says until when', async () => {
    const first = await signIn(h, 'mfa@example.com', 'admin')
    const totp = await enrolTotp(h, first)
    const second = await signIn(h, 'mfa@example.com')
    const mcp = await mcpSession(h, second.token)
    const before = await mcpCall(h, mcp, 'tools/call', { name: 'audit_query', arguments: {} })
    expect((before.body.error as { data: { reason: string } }).data.reason).toBe('mfa_required')
    expect((await callAdminTool(second.token)).status).toBe(403)
    const res = await verifyMfa(h, second, codeAt(totp))
    expect(res.status).toBe(200)
    const body = (await res.json()) as { user_id: string; mfa_verified: boolean; mfa_expires_at: number }
    expect(body).toMatchObject({ user_id: second.user_id, mfa_verified: true })
    expect(body.mfa_expires_at).toBeGreaterThan(Date.now() / 1000 + 14 * 60)
    expect(body.mfa_expires_at).toBeLessThanOrEqual(Date.now() / 1000 + 15 * 60 + 1)
    expect((await callAdminTool(second.token)).status).toBe(200)
    const after = await mcpCall(h, mcp, 'tools/call', { name: 'audit_query', arguments: {} }, 2)
    expect(after.body.error).toBeUndefined()
  })

  test('MFA is per session: verifying on one session does not upgrade another of the same user (T-A8)', async () => {
    const a = await signIn(h, 'two-sessions@example.com', 'admin')
    const b = await signIn(h, 'two-sessions@example.com')
    await enrolTotp(h, a)
    expect((await callAdminTool(a.token)).status).toBe(200)
    const refused = await callAdminTool(b.token)
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: 'mfa_required', required_tier: 'admin' })
  })

  test('another user\'s id with that user\'s valid code is 403 and leaves this session unverified (T-A6)', async () => {
    const victim = await signIn(h, 'victim@example.com', 'admin')
    const attacker = await signIn(h, 'attacker@example.com', 'user')
    const attackerTotp = await enrolTotp(h, attacker)
    const res = await verifyMfa(h, victim, codeAt(attackerTotp), attacker.user_id)
    expect(res.status).toBe(403)
    expect(await res.json()).toMatchObject({ error: 'forbidden' })
    expect((await callAdminTool(victim.token)).status).toBe(403)
  })

  test('a used code is refused: the same step again, an older step, and the next step early (T-C3)', async () => {
    const login = await signIn(h, 'replay@example.com', 'admin')
    const totp = await enrolTotp(h, login) // spends the previous step
    const now = codeAt(totp)
    expect((await verifyMfa(h, login, now)).status).toBe(200)
    const again = await verifyMfa(h, login, now)
    expect(again.status).toBe(401)
    expect(await again.json()).toMatchObject({ error: 'invalid_code' })
    expect((await verifyMfa(h, login, codeAt(totp, -1))).status).toBe(401)
    expect((await verifyMfa(h, login, codeAt(totp, 1))).status).toBe(401)
  })

  test('malformed codes and bodies are 400, never 500 (T-E12); the server time is used, a client timestamp ignored', async () => {
    const login = await signIn(h, 'format@example.com', 'user')
    await enrolTotp(h, login)
    for (const code of ['12345é', 123456, '١٢٣٤٥٦', ' 123456', '1234567', '', null, ['123456'], { $gt: '' }])
      expect({ code, status: (await verifyMfa(h, login, code)).status }).toEqual({ code, status: 400 })
    expect((await verifyMfa(h, login, '123456', 42)).status).toBe(400)
    expect((await restPost(`${h.url}/auth/verify-mfa`, { totp_code: '123456' }, bearer(login.token))).status).toBe(400)
    const stale = await restPost(`${h.url}/auth/verify-mfa`, { user_id: login.user_id, totp_code: '000000', timestamp: 59_000 }, bearer(login.token))
    expect([400, 401]).toContain(stale.status)
  })

  test('a __proto__ key in the body has no effect on authorization (T-E8)', async () => {
    const login = await signIn(h, 'proto@example.com', 'user')
    const res = await restPost(`${h.url}/auth/verify-mfa`, `{"user_id":"${login.user_id}","totp_code":"123456","__proto__":{"tier":"admin","mfa":true}}`, bearer(login.token))
    expect(res.status).toBe(400) // not enrolled
    expect(({} as Record<string, unknown>).tier).toBeUndefined()
    const call = await restPost(`${h.url}/mcp/tool/audit_query`, '{"__proto__":{"tier":"admin"},"constructor":{"prototype":{"tier":"admin"}}}', bearer(login.token))
    expect(call.status).toBe(403)
    expect(({} as Record<string, unknown>).tier).toBeUndefined()
  })

  test('five wrong codes lock MFA (even for the right code, from any X-Forwarded-For) while sign-in still works (T-D1)', async () => {
    const login = await signIn(h, 'locked@example.com', 'admin')
    const totp = await enrolTotp(h, login)
    const current = codeAt(totp)
    const wrong = String((Number(current) + 500_000) % 1_000_000).padStart(6, '0')
    const statuses: number[] = []
    for (let i = 0; i < 5; i++)
      statuses.push((await restPost(`${h.url}/auth/verify-mfa`, { user_id: login.user_id, totp_code: wrong }, { ...bearer(login.token), 'x-forwarded-for': `203.0.113.${i}` })).status)
    expect(statuses).toEqual([401, 401, 401, 401, 429])
    const locked = await verifyMfa(h, login, current)
    expect(locked.status).toBe(429)
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(800)
    expect(await locked.json()).toMatchObject({ error: 'mfa_locked' })
    // No malicious lockout of the account: signing in still works.
    const again = await signIn(h, 'locked@example.com')
    expect((await fetch(`${h.url}/mcp/tools`, { headers: bearer(again.token) })).status).toBe(200)
    // And the lock and failures are audited.
    const audit = await h.server.auth!.audit.query({ limit: 50, email: 'locked@example.com', kind: 'mfa_failed' })
    expect(audit.map((r) => r.detail)).toContain('wrong_code')
  })

  test('verify-mfa needs a bearer token', async () => {
    expect((await restPost(`${h.url}/auth/verify-mfa`, { user_id: 'x', totp_code: '123456' })).status).toBe(401)
  })
})
