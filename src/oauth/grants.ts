/**
 * @module oauth/grants
 * Codes, grants and tokens. A grant is an auth session (the record every bearer token is checked
 * against on every request), so revoking it, or signing out, ends its access tokens at once on
 * every instance. Access tokens are the server's HS256 JWTs with `aud` = the resource, `client_id`,
 * `scope` and the grant's session id. Refresh tokens are random, stored hashed, single-use and
 * rotated; presenting a used one (or a used code) revokes the whole grant (OAuth 2.1 §4.3.1,
 * RFC 6749 §4.1.2). Errors are values: the token endpoint turns them into RFC 6749 §5.2 answers.
 */
import { randomBytes } from 'node:crypto'
import { hashToken } from '../auth/one-time-tokens.ts'
import { newSessionId } from '../auth/sessions.ts'
import type { OAuthErrorCode } from '../lib/respond.ts'
import type { ResolvedClient } from './clients.ts'
import { CODE_TTL_MS, type OAuthContext } from './context.ts'
import { verifierMatches } from './pkce.ts'
import { SCOPE_ADMIN } from '../auth/resources.ts'
import { parseScope, scopeString } from './scopes.ts'
import type { AuthorizationCode, RefreshToken } from './stores.ts'

export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  refresh_token?: string
  scope: string
}

export type GrantResult = { ok: true; body: TokenResponse; userId: string; grantId: string } | { ok: false; error: OAuthErrorCode; description: string; detail?: string }

const refuse = (error: OAuthErrorCode, description: string, detail?: string): GrantResult => ({ ok: false, error, description, detail })
const token = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`

export class Grants {
  readonly #c: OAuthContext

  constructor(ctx: OAuthContext) {
    this.#c = ctx
  }

  /** Mint a code for an approved request; only its hash is stored. */
  async issueCode(c: Omit<AuthorizationCode, 'expiresAt'>): Promise<string> {
    const code = token('mco_')
    await this.#c.stores.codes.put(hashToken(code), { ...c, expiresAt: this.#c.now() + CODE_TTL_MS })
    return code
  }

  /** `grant_type=authorization_code`. */
  async exchangeCode(client: ResolvedClient, form: URLSearchParams): Promise<GrantResult> {
    const raw = form.get('code')
    if (!raw) return refuse('invalid_request', 'code is required')
    const hash = hashToken(raw)
    const grantId = newSessionId()
    const redemption = await this.#c.stores.codes.redeem(hash, grantId, this.#c.now())
    if (redemption === undefined) return refuse('invalid_grant', 'the code is invalid, expired or was issued elsewhere: start the authorization again')
    if ('reusedBy' in redemption) {
      await this.revokeGrant(redemption.reusedBy)
      return refuse('invalid_grant', 'the code was already used: the tokens issued for it are revoked', 'authorization code reused; grant revoked')
    }
    // From here on the code is spent: a failed check below does not give it back (OAuth 2.1 §4.1.3).
    const code = redemption.code
    if (code.clientId !== client.clientId) return refuse('invalid_grant', 'the code was issued to another client', 'code presented by another client')
    if (form.get('redirect_uri') !== code.redirectUri) return refuse('invalid_grant', 'redirect_uri must be the one sent to /authorize', 'redirect_uri mismatch')
    if (!verifierMatches(form.get('code_verifier'), code.codeChallenge)) return refuse('invalid_grant', 'code_verifier does not match the code_challenge', 'PKCE verifier mismatch')
    const resource = form.get('resource')
    if (form.getAll('resource').length > 1 || (resource !== null && this.#c.resources.canonical(resource) !== code.resource))
      return refuse('invalid_target', `resource must be the one the code was issued for (${code.resource})`)
    const user = await this.#c.auth.stores.users.get(code.userId)
    if (!user) return refuse('invalid_grant', 'the user no longer exists')

    const { expiresAt } = await this.#c.auth.sessions.open(user.id, this.#c.settings.grantTtlMs, grantId)
    if (code.mfaAt !== undefined) await this.#c.auth.sessions.markMfaVerified(grantId)
    // A replay that raced this exchange found no session to revoke yet; look again now it exists.
    if (await this.#c.stores.codes.reused(hash)) {
      await this.revokeGrant(grantId)
      return refuse('invalid_grant', 'the code was already used: the tokens issued for it are revoked', 'authorization code reused during exchange')
    }
    const rt: RefreshToken = { grantId, clientId: client.clientId, userId: user.id, scope: code.scope, resource: code.resource, authTime: code.authTime, amr: code.amr, mfaAt: code.mfaAt, expiresAt }
    return this.#tokens(client, rt, expiresAt, client.grantTypes.includes('refresh_token') ? token('mcr_') : undefined, (h) => this.#c.stores.refreshTokens.put(h, rt))
  }

  /** `grant_type=refresh_token`: rotate once; a reused token revokes its grant. */
  async refresh(client: ResolvedClient, form: URLSearchParams): Promise<GrantResult> {
    const raw = form.get('refresh_token')
    if (!raw) return refuse('invalid_request', 'refresh_token is required')
    const oldHash = hashToken(raw)
    const now = this.#c.now()
    const found = await this.#c.stores.refreshTokens.get(oldHash, now)
    if (!found) return refuse('invalid_grant', 'the refresh token is invalid, expired or revoked: sign in again')
    const old = found.token
    if (old.clientId !== client.clientId) return refuse('invalid_grant', 'the refresh token was issued to another client', 'refresh token presented by another client')
    if (found.used) {
      await this.revokeGrant(old.grantId)
      return refuse('invalid_grant', 'the refresh token was already used: the grant is revoked, sign in again', 'refresh token reused; grant revoked')
    }
    if (!(await this.#c.auth.sessions.isActive(old.grantId))) return refuse('invalid_grant', 'the grant was revoked or has ended: sign in again')
    let scopes = old.scope.split(' ')
    if (form.get('scope') !== null) {
      const asked = parseScope(form.get('scope'))
      if (!asked.ok || asked.scopes.some((s) => !scopes.includes(s))) return refuse('invalid_scope', `a refresh can only keep or narrow the granted scope (${old.scope})`)
      scopes = asked.scopes
    }
    const resource = form.get('resource')
    if (form.getAll('resource').length > 1 || (resource !== null && this.#c.resources.canonical(resource) !== old.resource))
      return refuse('invalid_target', `resource must be the one the grant was issued for (${old.resource})`)
    // Admin access lasts as long as the TOTP verification behind it; then it must be asked for again.
    if (scopes.includes(SCOPE_ADMIN) && (await this.#c.auth.sessions.mfaVerifiedUntil(old.grantId)) === undefined) scopes = scopes.filter((s) => s !== SCOPE_ADMIN)
    const next: RefreshToken = { ...old, scope: scopeString(scopes), ...(scopes.includes(SCOPE_ADMIN) ? {} : { mfaAt: undefined }) }
    const session = await this.#c.auth.stores.authSessions.get(old.grantId)
    return this.#tokens(client, next, session!.expiresAt, token('mcr_'), async (h) => {
      const rotation = await this.#c.stores.refreshTokens.rotate(oldHash, h, next, now)
      if (rotation === 'rotated') return
      if (rotation === 'reused') await this.revokeGrant(old.grantId)
      throw new RotationLost()
    })
  }

  async #tokens(client: ResolvedClient, g: RefreshToken, grantExpiresAt: number, refreshToken: string | undefined, store: (hash: string) => Promise<void>): Promise<GrantResult> {
    if (refreshToken !== undefined) {
      try {
        await store(hashToken(refreshToken))
      } catch (err) {
        if (err instanceof RotationLost) return refuse('invalid_grant', 'the refresh token was already used: the grant is revoked, sign in again', 'concurrent refresh lost the rotation')
        throw err
      }
    }
    const at = await this.#c.auth.sessions.accessToken({ userId: g.userId, sessionId: g.grantId, audience: g.resource, clientId: client.clientId, scope: g.scope, amr: g.mfaAt === undefined ? g.amr.filter((m) => m !== 'otp') : g.amr }, this.#c.settings.accessTokenTtlMs, grantExpiresAt)
    await this.#c.clients.used(client)
    const body: TokenResponse = {
      access_token: at.token,
      token_type: 'Bearer',
      expires_in: Math.max(1, Math.floor((at.expiresAt - this.#c.now()) / 1000)),
      ...(refreshToken ? { refresh_token: refreshToken } : {}),
      scope: g.scope,
    }
    return { ok: true, body, userId: g.userId, grantId: g.grantId }
  }

  /** End a grant: its session (so every access token dies at once) and its refresh tokens. */
  async revokeGrant(grantId: string): Promise<void> {
    await this.#c.auth.sessions.revoke(grantId)
    await this.#c.stores.refreshTokens.deleteGrant(grantId)
  }

  /** RFC 7009: what a token names, if it belongs to `client` (a refresh token, or an access token). */
  async grantOf(client: ResolvedClient, value: string): Promise<string | undefined> {
    const rt = await this.#c.stores.refreshTokens.get(hashToken(value), this.#c.now())
    if (rt) return rt.token.clientId === client.clientId ? rt.token.grantId : undefined
    const principal = await this.#c.auth.sessions.resolve(value)
    return 'rejected' in principal || principal.clientId !== client.clientId ? undefined : principal.authSessionId
  }
}

class RotationLost extends Error {}
