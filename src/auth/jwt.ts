/**
 * @module auth/jwt
 * Session tokens: HS256 JWTs signed and verified through `@elysiajs/jwt`, wrapped here once so no
 * other file calls it. The plugin's defaults are unsafe (security.md §0): `verify` checks nothing
 * but the signature unless given options, and `sign` spreads its argument into the payload. So
 * `verify` always passes the full option set (algorithm allowlist, `iss`, `aud`, `typ`, required
 * `exp`/`iat`/`sub`/`jti`, maximum age), and `sign` receives a literal built from server values only.
 *
 * Verification runs on every request. Given the secret as a string, the plugin hands jose raw
 * bytes, which jose imports as an HMAC `CryptoKey` on every call; so verification goes through a
 * second instance of the plugin whose secret is that `CryptoKey`, imported once (HMAC/SHA-256,
 * usable only to verify): jose uses it as it is, and still checks that it is an HMAC SHA-256 key
 * for the token's `alg`. Signing (sign-in, rare) keeps the string secret. Even so a WebCrypto
 * verification costs ≈ 50 µs, so a token that verified is remembered (by its exact text, up to
 * `VERIFIED_TOKENS` of them): every check that depends only on the token's bytes and this
 * server's key, issuer and audience (signature, `alg`, `typ`, `iss`, `aud`, required claims) has
 * the same answer for the same text, and the checks that depend on the clock (`exp`, `nbf`, `iat`
 * not in the future, maximum age) are made again on every use, as jose makes them. Only tokens
 * that verified are remembered, so forged ones cannot fill the cache. Revocation is not in the
 * token: it is the session record, read on every request (auth/sessions.ts).
 *
 * Claims: `sub` = user id, `jti` = id of the server-side session record (auth store), `iss` = the
 * public URL, `aud` = the protected resource (the public URL, or for an OAuth access token the
 * RFC 8707 resource it was issued for), `iat`, `exp`; header `typ: at+jwt`. OAuth access tokens
 * add `client_id`, `scope` and `amr` (RFC 9068 §2.2). No tier, email or MFA state is in the token: those
 * are read from the store on every request.
 */
import { jwt } from '@elysiajs/jwt'

/** The one `typ` this server issues and accepts (RFC 9068 access-token type). */
export const SESSION_TOKEN_TYP = 'at+jwt'
const ALGORITHMS = ['HS256']
/** Allowed clock skew between instances, in seconds. */
const CLOCK_TOLERANCE_S = 5
/** Longer than any token this server mints (script tokens: 90 days); bounds `iat` in the future too. */
export const MAX_TOKEN_TTL_S = 90 * 24 * 3600
/** Tokens longer than this are refused before any parsing. */
const MAX_TOKEN_CHARS = 4096
/** Verified tokens remembered (oldest forgotten first); ≈ 400 bytes each. */
export const VERIFIED_TOKENS = 10_000

export interface SessionTokenClaims {
  userId: string
  sessionId: string
  /** Epoch ms. */
  expiresAt: number
  /** The resource the token is for; defaults to `audience()`. */
  audience?: string
  /** OAuth access tokens only: the client it was issued to and its space-separated scopes. */
  clientId?: string
  scope?: string
  /** How the user authenticated for this grant (RFC 8176: `email`, `github`, `otp`). */
  amr?: string[]
}

export interface SessionTokenOptions {
  secret: string
  /** Resolved on each use: the public URL may only be known once the server listens. */
  issuer: () => string
  /** The audience of tokens signed without one. */
  audience: () => string
  /** The audiences `verify` accepts (default: `audience()` alone). */
  acceptedAudiences?: () => string[]
  /** Verified tokens remembered (default `VERIFIED_TOKENS`). */
  verifiedTokens?: number
}

/** The part of the plugin's decorator used here. */
interface JwtImpl {
  sign(payload: Record<string, string | number | string[]>): Promise<string>
  verify(token: string, options: Record<string, unknown>): Promise<Record<string, unknown> | false>
}

const plugin = (secret: string | CryptoKey): JwtImpl =>
  jwt({ name: 'sessionJwt', secret, alg: 'HS256', typ: SESSION_TOKEN_TYP }).decorator.sessionJwt as unknown as JwtImpl

/** A token that verified, with what its verification depended on besides its text and the key. */
interface Verified {
  claims: SessionTokenClaims
  issuer: string
  /** The accepted audiences it was checked against, joined. */
  audiences: string
  iat: number
  exp: number
  nbf?: number
}

/** jose's clock checks (jwt_claims_set.js), with this module's tolerance and maximum age; `now` in epoch seconds. */
function timely(v: Verified, now: number): boolean {
  if (v.nbf !== undefined && v.nbf > now + CLOCK_TOLERANCE_S) return false
  if (v.exp <= now - CLOCK_TOLERANCE_S) return false
  const age = now - v.iat
  return age - CLOCK_TOLERANCE_S <= MAX_TOKEN_TTL_S && age >= -CLOCK_TOLERANCE_S
}

export class SessionTokens {
  readonly #impl: JwtImpl
  /** The plugin over the HMAC key imported once (verification only). */
  readonly #verifier: Promise<JwtImpl>
  readonly #opts: SessionTokenOptions
  /** Token text → what its verification found; insertion order is age. */
  readonly #verified = new Map<string, Verified>()

  constructor(opts: SessionTokenOptions) {
    this.#opts = opts
    this.#impl = plugin(opts.secret)
    this.#verifier = crypto.subtle
      .importKey('raw', new TextEncoder().encode(opts.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify'])
      .then(plugin)
    // Cannot fail for a non-empty secret; if it did, every verify would throw (refused), not crash the process.
    this.#verifier.catch(() => {})
  }

  /** Mint the token for a session record. Every claim is chosen here, none comes from a request. */
  sign(c: SessionTokenClaims): Promise<string> {
    const payload: Record<string, string | number | string[]> = {
      iss: this.#opts.issuer(),
      aud: c.audience ?? this.#opts.audience(),
      sub: c.userId,
      jti: c.sessionId,
      exp: Math.floor(c.expiresAt / 1000),
    }
    if (c.clientId !== undefined) payload.client_id = c.clientId
    if (c.scope !== undefined) payload.scope = c.scope
    if (c.amr !== undefined) payload.amr = c.amr
    return this.#impl.sign(payload)
  }

  /** The claims of a valid token, or undefined for anything else (the caller answers 401). */
  async verify(token: string): Promise<SessionTokenClaims | undefined> {
    if (token.length > MAX_TOKEN_CHARS) return undefined
    const issuer = this.#opts.issuer()
    const audience = this.#opts.acceptedAudiences?.() ?? [this.#opts.audience()]
    const audiences = this.#joined(audience)
    const known = this.#verified.get(token)
    if (known !== undefined && known.issuer === issuer && known.audiences === audiences) {
      if (timely(known, Math.floor(Date.now() / 1000))) return { ...known.claims }
      this.#verified.delete(token)
      return undefined
    }
    const payload = await (await this.#verifier).verify(token, {
      algorithms: ALGORITHMS,
      issuer,
      audience,
      typ: SESSION_TOKEN_TYP,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_S,
      maxTokenAge: MAX_TOKEN_TTL_S,
    })
    if (!payload) return undefined
    const { sub, jti, exp, iat, nbf, aud, client_id, scope } = payload
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number' || typeof iat !== 'number' || typeof aud !== 'string') return undefined
    // No token of ours lives longer than MAX_TOKEN_TTL_S; a longer one was not minted here.
    if (exp - iat > MAX_TOKEN_TTL_S) return undefined
    // Both or neither: an OAuth access token always names its client and its scopes.
    if ((client_id === undefined) !== (scope === undefined)) return undefined
    if (client_id !== undefined && (typeof client_id !== 'string' || typeof scope !== 'string')) return undefined
    const claims: SessionTokenClaims = { userId: sub, sessionId: jti, expiresAt: exp * 1000, audience: aud }
    if (typeof client_id === 'string' && typeof scope === 'string') Object.assign(claims, { clientId: client_id, scope })
    if (this.#verified.size >= (this.#opts.verifiedTokens ?? VERIFIED_TOKENS)) this.#verified.delete(this.#verified.keys().next().value!)
    this.#verified.set(token, { claims, issuer, audiences, iat, exp, nbf: typeof nbf === 'number' ? nbf : undefined })
    return { ...claims }
  }

  /** `list.join(' ')`, kept for the last list seen (the same array on every request). */
  #joined(list: string[]): string {
    if (this.#lastList !== list) this.#lastJoined = (this.#lastList = list).join(' ')
    return this.#lastJoined
  }
  #lastList: string[] | undefined
  #lastJoined = ''

  /** Verified tokens remembered (tests). */
  get verifiedTokens(): number {
    return this.#verified.size
  }
}
