/**
 * TOTP: RFC 6238 Appendix B vectors through otpauth, then the server's policy on a fake clock
 * (current and previous step only, no replay, digits only, lockout, encrypted seeds).
 */
import { describe, expect, test } from 'bun:test'
import { Secret, TOTP } from 'otpauth'
import { AuthError } from '../../src/auth/errors.ts'
import { SecretBox } from '../../src/auth/secret-box.ts'
import { TotpService, matchStep, totpFor } from '../../src/auth/totp.ts'
import { MemoryAuthStores } from '../../src/stores/memory/memory-auth-stores.ts'

const SEEDS = {
  SHA1: '12345678901234567890',
  SHA256: '12345678901234567890123456789012',
  SHA512: '1234567890'.repeat(6) + '1234',
} as const

// RFC 6238 Appendix B: time (s) → 8-digit codes for SHA1, SHA256, SHA512.
const VECTORS: [number, string, string, string][] = [
  [59, '94287082', '46119246', '90693936'],
  [1111111109, '07081804', '68084774', '25091201'],
  [1111111111, '14050471', '67062674', '99943326'],
  [1234567890, '89005924', '91819424', '93441116'],
  [2000000000, '69279037', '90698825', '38618901'],
  [20000000000, '65353130', '77737706', '47863826'],
]

describe('RFC 6238 Appendix B vectors', () => {
  for (const [seconds, ...codes] of VECTORS) {
    ;(['SHA1', 'SHA256', 'SHA512'] as const).forEach((algorithm, i) => {
      test(`${algorithm} at t=${seconds}`, () => {
        const t = new TOTP({ secret: Secret.fromLatin1(SEEDS[algorithm]), algorithm, digits: 8, period: 30 })
        expect(t.generate({ timestamp: seconds * 1000 })).toBe(codes[i]!)
        expect(t.validate({ token: codes[i]!, timestamp: seconds * 1000, window: 0 })).toBe(0)
      })
    })
  }

  test('the six-digit code the server uses is the last six digits (SHA1 seed as Base32)', () => {
    const t = totpFor('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
    expect(t.generate({ timestamp: 59_000 })).toBe('287082')
    expect(t.generate({ timestamp: 1111111109_000 })).toBe('081804')
  })
})

describe('matchStep: the acceptance window', () => {
  const t = totpFor('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ')
  const code = t.generate({ timestamp: 59_000 }) // step 1
  test('the current step is accepted (delta 0 is not "false")', () => {
    expect(matchStep(t, code, 59_000)).toEqual({ step: 1 })
  })
  test('the previous step is accepted', () => {
    expect(matchStep(t, code, 89_000)).toEqual({ step: 1 })
  })
  test('a code of the next step is refused, although otpauth\'s default window accepts it', () => {
    expect(t.validate({ token: code, timestamp: 29_000 })).toBe(1)
    expect(matchStep(t, code, 29_000)).toEqual({ rejected: 'future_step' })
  })
  test('two steps back is refused', () => {
    expect(matchStep(t, code, 119_000)).toEqual({ rejected: 'wrong_code' })
  })
})

describe('TotpService', () => {
  let now = 1_700_000_000_000
  const setup = async (opts: { maxFailures?: number } = {}) => {
    const store = new MemoryAuthStores().totp
    const box = new SecretBox('k'.repeat(40))
    const service = new TotpService(store, box, { issuer: 'mcprag', maxFailures: opts.maxFailures ?? 5, lockMs: 60_000, now: () => now })
    const { uri, secret } = await service.enrol({ id: 'u1', email: 'ada@example.com' }, 's1')
    const totp = totpFor(secret)
    const at = (offsetSteps = 0) => totp.generate({ timestamp: now + offsetSteps * 30_000 })
    return { store, box, service, uri, secret, at }
  }
  const refusal = async (p: Promise<unknown>) => {
    try {
      await p
    } catch (err) {
      if (err instanceof AuthError) return { status: err.status, code: err.code, detail: err.opts.detail, retryAfterS: err.opts.retryAfterS }
      throw err
    }
    throw new Error('expected a refusal')
  }

  test('enrolment gives an otpauth URI with a 160-bit secret; the store holds only a box that does not contain it', async () => {
    const { store, box, uri, secret } = await setup()
    expect(uri).toStartWith('otpauth://totp/mcprag:ada%40example.com?')
    expect(uri).toContain(`secret=${secret}`)
    expect(Buffer.from(Secret.fromBase32(secret).bytes).length).toBe(20)
    const state = (await store.get('u1'))!
    expect(state.secretBox).toBeUndefined()
    const pending = state.pending!.secretBox
    expect(pending).not.toContain(secret)
    expect(box.open(pending, 'u1')).toBe(secret)
    // Bound to the user: the same box does not open for another user, nor under another key.
    expect(box.open(pending, 'u2')).toBeUndefined()
    expect(new SecretBox('x'.repeat(40)).open(pending, 'u1')).toBeUndefined()
  })

  test('verification needs a confirmed enrolment, which needs a correct first code', async () => {
    const { service, at } = await setup()
    expect(await refusal(service.verify('u1', at()))).toMatchObject({ status: 400, code: 'not_enrolled' })
    expect(await refusal(service.confirm('u1', 's1', '000000'.replace(/./g, (d, i) => String((Number(at()[i]) + 1) % 10))))).toMatchObject({ status: 401, code: 'invalid_code' })
    // Only the auth session that started the enrolment may confirm it.
    expect(await refusal(service.confirm('u1', 's2', at(-1)))).toMatchObject({ status: 400, code: 'not_enrolled' })
    expect(await service.isEnrolled('u1')).toBe(false)
    await service.confirm('u1', 's1', at(-1))
    expect(await service.isEnrolled('u1')).toBe(true)
    expect(await refusal(service.confirm('u1', 's1', at()))).toMatchObject({ status: 400, code: 'not_enrolled' })
  })

  test('re-enrolling keeps the confirmed authenticator working until the new one is confirmed (issue 13, M3)', async () => {
    const { service, at, store, box } = await setup({ maxFailures: 3 })
    await service.confirm('u1', 's1', at(-1))
    const wrong = String((Number(at()) + 1) % 1_000_000).padStart(6, '0')
    expect(await refusal(service.verify('u1', wrong))).toMatchObject({ status: 401 })
    const { secret: next } = await service.enrol({ id: 'u1', email: 'ada@example.com' }, 's1')
    // Starting over reset nothing: the failure counts on, and the old authenticator still verifies.
    expect((await store.get('u1'))!.failures).toBe(1)
    await service.verify('u1', at())
    // Another session (a stolen one) cannot confirm the owner's pending enrolment…
    const nextTotp = totpFor(next)
    expect(await refusal(service.confirm('u1', 's2', nextTotp.generate({ timestamp: now })))).toMatchObject({ status: 400, code: 'not_enrolled' })
    // …nor start its own and confirm that while it is locked out.
    await service.enrol({ id: 'u1', email: 'ada@example.com' }, 's2')
    for (let i = 0; i < 3; i++) await refusal(service.confirm('u1', 's2', wrong))
    expect(await refusal(service.confirm('u1', 's2', wrong))).toMatchObject({ status: 429, code: 'mfa_locked' })
    expect(box.open((await store.get('u1'))!.secretBox!, 'u1')).not.toBe(next)
  })

  test('a used code is refused (same step, and any older step), the next step is not accepted early', async () => {
    const { service, at } = await setup()
    await service.confirm('u1', 's1', at(-1))
    await service.verify('u1', at())
    expect(await refusal(service.verify('u1', at()))).toMatchObject({ status: 401, code: 'invalid_code', detail: 'replayed' })
    expect(await refusal(service.verify('u1', at(-1)))).toMatchObject({ status: 401, detail: 'replayed' })
    expect(await refusal(service.verify('u1', at(1)))).toMatchObject({ status: 401, detail: 'future_step' })
    now += 30_000
    await service.verify('u1', at())
  })

  test('malformed codes are 400 and never throw anything else (T-E12)', async () => {
    const { service, at } = await setup()
    await service.confirm('u1', 's1', at(-1))
    for (const bad of ['12345é', 123456, '١٢٣٤٥٦', ' 123456', '123456 ', '1234567', '12345', '', null, undefined, ['123456'], { code: '123456' }, '12345\n', '１２３４５６'])
      expect({ bad, r: await refusal(service.verify('u1', bad)) }).toMatchObject({ bad, r: { status: 400, code: 'invalid_request' } })
    // Malformed input does not count towards the lockout.
    await service.verify('u1', at())
  })

  test('the fifth wrong code locks MFA; during the lock even the right code is 429; the lock runs out', async () => {
    const { service, at, store } = await setup({ maxFailures: 5 })
    await service.confirm('u1', 's1', at(-1))
    const wrong = String((Number(at()) + 1) % 1_000_000).padStart(6, '0')
    for (let i = 1; i <= 4; i++) expect(await refusal(service.verify('u1', wrong))).toMatchObject({ status: 401 })
    expect(await refusal(service.verify('u1', wrong))).toMatchObject({ status: 429, code: 'mfa_locked', retryAfterS: 60 })
    expect(await refusal(service.verify('u1', at()))).toMatchObject({ status: 429, code: 'mfa_locked' })
    now += 61_000
    await service.verify('u1', at())
    expect((await store.get('u1'))!.failures).toBe(0)
  })
})
