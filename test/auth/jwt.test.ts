/**
 * Session tokens (security.md §3, T-B1…T-B8): only an HS256 `at+jwt` of this server's key, issuer
 * and audience, with exp/iat/sub/jti, inside its lifetime, verifies; everything else is undefined.
 */
import { afterEach, describe, expect, setSystemTime, test } from 'bun:test'
import { SessionTokens } from '../../src/auth/jwt.ts'
import { decodeJwt, forgeJwt } from '../_utils/jwt.ts'

const SECRET = 's'.repeat(48)
const URL_ = 'http://127.0.0.1:3000'
const tokens = new SessionTokens({ secret: SECRET, issuer: () => URL_, audience: () => URL_ })
const now = () => Math.floor(Date.now() / 1000)
const good = () => ({ iss: URL_, aud: URL_, sub: 'user-1', jti: 'session-1', iat: now(), exp: now() + 600 })
const HEADER = { alg: 'HS256', typ: 'at+jwt' }

describe('signing', () => {
  test('a minted token has exactly the server-chosen claims and verifies', async () => {
    const expiresAt = Date.now() + 3_600_000
    const token = await tokens.sign({ userId: 'user-1', sessionId: 'session-1', expiresAt })
    const { header, payload } = decodeJwt(token)
    expect(header).toEqual({ alg: 'HS256', typ: 'at+jwt' })
    expect(Object.keys(payload).sort()).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'sub'])
    expect(payload).toMatchObject({ iss: URL_, aud: URL_, sub: 'user-1', jti: 'session-1', exp: Math.floor(expiresAt / 1000) })
    expect(await tokens.verify(token)).toEqual({ userId: 'user-1', sessionId: 'session-1', expiresAt: Math.floor(expiresAt / 1000) * 1000, audience: URL_ })
  })

  test('a hand-made token with the right key and claims verifies (the forging helper is faithful)', async () => {
    expect(await tokens.verify(forgeJwt(HEADER, good(), SECRET))).toMatchObject({ userId: 'user-1' })
  })
})

describe('refused tokens', () => {
  const cases: [string, () => string][] = [
    ['alg none', () => forgeJwt({ alg: 'none', typ: 'at+jwt' }, good())],
    ['alg None', () => forgeJwt({ alg: 'None', typ: 'at+jwt' }, good())],
    ['alg NONE with a signature', () => forgeJwt({ alg: 'NONE', typ: 'at+jwt' }, good(), SECRET)],
    ['HS256 header with an empty signature', () => forgeJwt(HEADER, good())],
    ['HS512 with the right key (not in the allowlist)', () => forgeJwt({ alg: 'HS512', typ: 'at+jwt' }, good(), SECRET, 'sha512')],
    ['HS384 with the right key', () => forgeJwt({ alg: 'HS384', typ: 'at+jwt' }, good(), SECRET, 'sha384')],
    ['RS256 header', () => forgeJwt({ alg: 'RS256', typ: 'at+jwt' }, good(), SECRET)],
    ['another key', () => forgeJwt(HEADER, good(), 'x'.repeat(48))],
    ['no exp', () => forgeJwt(HEADER, { ...good(), exp: undefined }, SECRET)],
    ['expired by a minute', () => forgeJwt(HEADER, { ...good(), iat: now() - 120, exp: now() - 60 }, SECRET)],
    ['nbf in the future', () => forgeJwt(HEADER, { ...good(), nbf: now() + 600 }, SECRET)],
    ['iat in the future', () => forgeJwt(HEADER, { ...good(), iat: now() + 600 }, SECRET)],
    ['no iat', () => forgeJwt(HEADER, { ...good(), iat: undefined }, SECRET)],
    ['no jti', () => forgeJwt(HEADER, { ...good(), jti: undefined }, SECRET)],
    ['no sub', () => forgeJwt(HEADER, { ...good(), sub: undefined }, SECRET)],
    ['wrong aud', () => forgeJwt(HEADER, { ...good(), aud: 'https://other.example' }, SECRET)],
    ['wrong iss', () => forgeJwt(HEADER, { ...good(), iss: 'https://other.example' }, SECRET)],
    ['typ JWT', () => forgeJwt({ alg: 'HS256', typ: 'JWT' }, good(), SECRET)],
    ['no typ', () => forgeJwt({ alg: 'HS256' }, good(), SECRET)],
    ['string exp', () => forgeJwt(HEADER, { ...good(), exp: String(now() + 600) }, SECRET)],
    ['huge exp', () => forgeJwt(HEADER, { ...good(), exp: 1e308 }, SECRET)],
    ['numeric sub', () => forgeJwt(HEADER, { ...good(), sub: 42 }, SECRET)],
    ['unknown crit header', () => forgeJwt({ ...HEADER, crit: ['x-custom'], 'x-custom': 1 }, good(), SECRET)],
    ['jwk header pointing at an attacker key', () => forgeJwt({ ...HEADER, jwk: { kty: 'oct', k: Buffer.from('attacker').toString('base64url') } }, good(), 'attacker')],
    ['two segments', () => forgeJwt(HEADER, good(), SECRET).split('.').slice(0, 2).join('.')],
    ['four segments', () => `${forgeJwt(HEADER, good(), SECRET)}.x`],
    ['not base64 JSON', () => 'abc.def.ghi'],
    ['empty', () => ''],
    ['64 KiB header', () => forgeJwt({ ...HEADER, pad: 'x'.repeat(65_536) }, good(), SECRET)],
  ]
  for (const [name, make] of cases)
    test(name, async () => {
      expect(await tokens.verify(make())).toBeUndefined()
    })

  test('a payload bit flipped after signing (tier/sub tamper) is refused', async () => {
    const token = await tokens.sign({ userId: 'user-1', sessionId: 'session-1', expiresAt: Date.now() + 60_000 })
    const [h, p, s] = token.split('.')
    const payload = JSON.parse(Buffer.from(p!, 'base64url').toString())
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'admin', tier: 'admin' })).toString('base64url')}.${s}`
    expect(await tokens.verify(tampered)).toBeUndefined()
  })
})

describe('the verification key', () => {
  test('is imported once, not on every verification, and verifies only what the string secret signs', async () => {
    const fresh = new SessionTokens({ secret: SECRET, issuer: () => URL_, audience: () => URL_ })
    const token = await fresh.sign({ userId: 'user-1', sessionId: 'session-1', expiresAt: Date.now() + 60_000 })
    expect(await fresh.verify(token)).toMatchObject({ userId: 'user-1' })
    const importKey = crypto.subtle.importKey.bind(crypto.subtle)
    let imports = 0
    crypto.subtle.importKey = ((...args: Parameters<typeof importKey>) => {
      imports++
      return importKey(...args)
    }) as typeof crypto.subtle.importKey
    try {
      for (let i = 0; i < 20; i++) expect(await fresh.verify(token)).toMatchObject({ userId: 'user-1' })
      expect(await fresh.verify(forgeJwt(HEADER, good(), 'x'.repeat(48)))).toBeUndefined()
      expect(await fresh.verify(forgeJwt({ alg: 'HS512', typ: 'at+jwt' }, good(), SECRET, 'sha512'))).toBeUndefined()
    } finally {
      crypto.subtle.importKey = importKey
    }
    expect(imports).toBe(0)
  })
})

describe('verified tokens are remembered, the clock checks are not', () => {
  afterEach(() => setSystemTime())

  test('a remembered token is refused once it has expired', async () => {
    const t0 = Date.now()
    const fresh = new SessionTokens({ secret: SECRET, issuer: () => URL_, audience: () => URL_ })
    const token = await fresh.sign({ userId: 'user-1', sessionId: 'session-1', expiresAt: t0 + 60_000 })
    expect(await fresh.verify(token)).toMatchObject({ userId: 'user-1' })
    expect(fresh.verifiedTokens).toBe(1)
    setSystemTime(new Date(t0 + 60_000 + 4_000))
    // Within the 5 s clock tolerance, as jose decides it.
    expect(await fresh.verify(token)).toMatchObject({ userId: 'user-1' })
    setSystemTime(new Date(t0 + 60_000 + 6_000))
    expect(await fresh.verify(token)).toBeUndefined()
    expect(fresh.verifiedTokens).toBe(0)
    expect(await fresh.verify(token)).toBeUndefined()
  })

  test('nbf and iat are checked against the clock on every use (a clock set back refuses them)', async () => {
    const fresh = new SessionTokens({ secret: SECRET, issuer: () => URL_, audience: () => URL_ })
    const withNbf = forgeJwt(HEADER, { ...good(), nbf: now() + 3 }, SECRET)
    const plain = forgeJwt(HEADER, good(), SECRET)
    expect(await fresh.verify(withNbf)).toMatchObject({ userId: 'user-1' })
    expect(await fresh.verify(plain)).toMatchObject({ userId: 'user-1' })
    setSystemTime(new Date(Date.now() - 10_000))
    expect(await fresh.verify(withNbf)).toBeUndefined()
    expect(await fresh.verify(plain)).toBeUndefined()
  })

  test('only tokens that verify are remembered; another issuer or audience verifies again', async () => {
    let iss = URL_
    let aud = URL_
    const fresh = new SessionTokens({ secret: SECRET, issuer: () => iss, audience: () => aud, verifiedTokens: 2 })
    for (const bad of [forgeJwt(HEADER, good(), 'x'.repeat(48)), forgeJwt({ alg: 'none', typ: 'at+jwt' }, good()), forgeJwt(HEADER, { ...good(), aud: 'https://other.example' }, SECRET)])
      expect(await fresh.verify(bad)).toBeUndefined()
    expect(fresh.verifiedTokens).toBe(0)
    const token = forgeJwt(HEADER, good(), SECRET)
    expect(await fresh.verify(token)).toMatchObject({ userId: 'user-1' })
    // The same text with one signature character changed is another token: verified, and refused.
    const last = token.at(-2) === 'A' ? 'B' : 'A'
    expect(await fresh.verify(`${token.slice(0, -2)}${last}${token.at(-1)}`)).toBeUndefined()
    iss = 'https://other.example'
    expect(await fresh.verify(token)).toBeUndefined()
    iss = URL_
    aud = 'https://other.example'
    expect(await fresh.verify(token)).toBeUndefined()
    aud = URL_
    expect(await fresh.verify(token)).toMatchObject({ userId: 'user-1' })
  })

  test('at most the configured number are remembered, the oldest forgotten first', async () => {
    const fresh = new SessionTokens({ secret: SECRET, issuer: () => URL_, audience: () => URL_, verifiedTokens: 3 })
    const tokens_ = Array.from({ length: 5 }, (_, i) => forgeJwt(HEADER, { ...good(), jti: `s${i}` }, SECRET))
    for (const t of tokens_) expect(await fresh.verify(t)).toMatchObject({ sessionId: expect.stringMatching(/^s\d$/) })
    expect(fresh.verifiedTokens).toBe(3)
    for (const t of tokens_) expect((await fresh.verify(t))!.sessionId).toBe(`s${tokens_.indexOf(t)}`)
  })
})
