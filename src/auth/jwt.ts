/**
 * @module auth/jwt
 * Session tokens: HS256 JWTs signed and verified through `@elysiajs/jwt`, wrapped here once so no
 * other file calls it. The plugin's defaults are unsafe (security.md §0): `verify` checks nothing
 * but the signature unless given options, and `sign` spreads its argument into the payload. So
 * `verify` always passes the full option set (algorithm allowlist, `iss`, `aud`, `typ`, required
 * `exp`/`iat`/`sub`/`jti`, maximum age), and `sign` receives a literal built from server values only.
 *
 * Claims: `sub` = user id, `jti` = id of the server-side session record (auth store), `iss` = the
 * public URL, `aud` = the public URL (the protected resource), `iat`, `exp`; header `typ: at+jwt`.
 * No tier, email or MFA state is in the token: those are read from the store on every request.
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

export interface SessionTokenClaims {
  userId: string
  sessionId: string
  /** Epoch ms. */
  expiresAt: number
}

export interface SessionTokenOptions {
  secret: string
  /** Resolved on each use: the public URL may only be known once the server listens. */
  issuer: () => string
  audience: () => string
}

/** The part of the plugin's decorator used here. */
interface JwtImpl {
  sign(payload: Record<string, string | number>): Promise<string>
  verify(token: string, options: Record<string, unknown>): Promise<Record<string, unknown> | false>
}

export class SessionTokens {
  readonly #impl: JwtImpl
  readonly #opts: SessionTokenOptions

  constructor(opts: SessionTokenOptions) {
    this.#opts = opts
    const plugin = jwt({ name: 'sessionJwt', secret: opts.secret, alg: 'HS256', typ: SESSION_TOKEN_TYP })
    this.#impl = plugin.decorator.sessionJwt as unknown as JwtImpl
  }

  /** Mint the token for a session record. Every claim is chosen here, none comes from a request. */
  sign(c: SessionTokenClaims): Promise<string> {
    return this.#impl.sign({
      iss: this.#opts.issuer(),
      aud: this.#opts.audience(),
      sub: c.userId,
      jti: c.sessionId,
      exp: Math.floor(c.expiresAt / 1000),
    })
  }

  /** The claims of a valid token, or undefined for anything else (the caller answers 401). */
  async verify(token: string): Promise<SessionTokenClaims | undefined> {
    if (token.length > MAX_TOKEN_CHARS) return undefined
    const payload = await this.#impl.verify(token, {
      algorithms: ALGORITHMS,
      issuer: this.#opts.issuer(),
      audience: this.#opts.audience(),
      typ: SESSION_TOKEN_TYP,
      requiredClaims: ['exp', 'iat', 'sub', 'jti'],
      clockTolerance: CLOCK_TOLERANCE_S,
      maxTokenAge: MAX_TOKEN_TTL_S,
    })
    if (!payload) return undefined
    const { sub, jti, exp, iat } = payload
    if (typeof sub !== 'string' || typeof jti !== 'string' || typeof exp !== 'number' || typeof iat !== 'number') return undefined
    // No token of ours lives longer than MAX_TOKEN_TTL_S; a longer one was not minted here.
    if (exp - iat > MAX_TOKEN_TTL_S) return undefined
    return { userId: sub, sessionId: jti, expiresAt: exp * 1000 }
  }
}
