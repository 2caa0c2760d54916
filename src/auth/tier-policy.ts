/**
 * @module auth/tier-policy
 * Who may see and call which tool: `public` < `user` < `admin`. A tool is listed to callers at
 * or above its tier; calling it also needs, for `admin` tools, a fresh TOTP verification on the
 * calling session. Every call re-reads the session and user from the store (a revoked session or
 * a lowered tier counts at once, even on a long-lived connection), unless the request that makes
 * the call has just read them to authenticate (`recent`: less than a second ago, and no session
 * was revoked or verified here since), and spends the caller's tool-call budget. The core runs
 * this for every transport, so REST, Streamable HTTP, SSE and WebSocket refuse the same calls the
 * same way.
 */
import { forbidden, rateLimited, type McpError } from '../core/errors.ts'
import type { ToolAccess } from '../core/ports.ts'
import type { RegisteredTool } from '../core/registry.ts'
import type { Principal, Tier } from '../core/types.ts'
import { ADMIN_SCOPES, SCOPE_ADMIN } from './resources.ts'
import type { RateLimiter, RateLimits } from './rate-limit.ts'
import type { ResolvedState } from './sessions.ts'
import type { AuthSessionStore } from './stores.ts'

const RANK: Record<Tier, number> = { public: 0, user: 1, admin: 2 }

export const tierAllows = (have: Tier, need: Tier) => RANK[have] >= RANK[need]

export interface TierPolicyOptions {
  store: Pick<AuthSessionStore, 'getWithUser'>
  limiter: RateLimiter
  limits: Pick<RateLimits, 'toolCallsPerUser'>
  now: () => number
  /** What authenticating this principal read from the store, while it is recent enough to stand. */
  recent?: (principal: Principal) => ResolvedState | undefined
  /** Whether the audit log can record right now; admin tools are refused while it cannot. */
  auditWritable?: () => Promise<boolean>
  /** Where a 403 step-up challenge points for an OAuth token issued for `resource`. */
  metadataUrlFor?: (resource: string) => string
}

export class TierPolicy implements ToolAccess {
  readonly #o: TierPolicyOptions

  constructor(opts: TierPolicyOptions) {
    this.#o = opts
  }

  canSee(principal: Principal, tool: RegisteredTool): boolean {
    return tierAllows(principal.tier, tool.tier)
  }

  async check(principal: Principal, tool: RegisteredTool): Promise<McpError | undefined> {
    const name = tool.definition.name
    const retryAfterS = await this.#o.limiter.take('tools', principal.id, this.#o.limits.toolCallsPerUser)
    if (retryAfterS !== undefined) return rateLimited(`Too many tool calls: try again in ${retryAfterS} s`, retryAfterS)
    let tier = principal.tier
    let mfaUntil: number | undefined
    if (principal.authSessionId !== undefined) {
      // Admin tools re-check the store itself (a revocation elsewhere counts at once); others
      // take what this request's authentication just read, when it is recent.
      const state = (tool.tier === 'admin' ? undefined : this.#o.recent?.(principal)) ?? (await this.#read(principal.authSessionId, tool.tier === 'admin'))
      if (state === undefined || state.expiresAt <= this.#o.now())
        return forbidden('This session has ended (signed out, revoked or expired): sign in again with POST /auth/login', { reason: 'session_expired' })
      tier = state.tier
      mfaUntil = state.mfaVerifiedUntil
    }
    if (!tierAllows(tier, tool.tier))
      return forbidden(
        `Tool "${name}" needs tier "${tool.tier}" and you have tier "${tier}": ask an operator to raise it (bun run mcprag user set-tier <email> ${tool.tier})`,
        { reason: 'insufficient_tier', required_tier: tool.tier },
      )
    const mfaFresh = mfaUntil !== undefined && mfaUntil > this.#o.now()
    // An OAuth client steps up by itself: a token without `mcp:admin`, or whose grant's TOTP
    // verification has lapsed, is answered with the scopes to ask for (HTTP 403 insufficient_scope);
    // the consent page then asks for a fresh TOTP code.
    if (tool.tier === 'admin' && principal.scopes !== undefined && !(principal.scopes.includes(SCOPE_ADMIN) && mfaFresh))
      return forbidden(
        `Tool "${name}" is an admin tool: it needs the OAuth scope "${SCOPE_ADMIN}", granted with a fresh TOTP code on the consent page; sign in again asking for "${ADMIN_SCOPES}"`,
        {
          reason: 'insufficient_scope',
          required_tier: 'admin',
          scope: ADMIN_SCOPES,
          ...(principal.resource !== undefined && this.#o.metadataUrlFor ? { resource_metadata: this.#o.metadataUrlFor(principal.resource) } : {}),
        },
      )
    // Without an auth session there is no authentication at all (MCPRAG_AUTH=off): no MFA to ask for.
    if (tool.tier === 'admin' && principal.authSessionId !== undefined && !mfaFresh)
      return forbidden(
        `Tool "${name}" is an admin tool and needs a fresh TOTP verification on this session: POST /auth/verify-mfa with {"user_id", "totp_code"} using this same bearer token, then call it again`,
        { reason: 'mfa_required', required_tier: 'admin' },
      )
    if (tool.tier === 'admin' && this.#o.auditWritable && !(await this.#o.auditWritable()))
      return forbidden(`Tool "${name}" is an admin tool and the audit log cannot be written right now: it is refused until the audit store recovers (see the server log)`, {
        reason: 'audit_unavailable',
        required_tier: 'admin',
      })
    return undefined
  }

  /** The session's state from the store; undefined when it or its user is gone, or it was revoked. */
  async #read(authSessionId: string, fresh: boolean): Promise<ResolvedState | undefined> {
    const found = await this.#o.store.getWithUser(authSessionId, { fresh })
    const session = found?.session
    const user = found?.user
    if (!session || !user || session.revokedAt !== undefined) return undefined
    return { tier: user.tier, expiresAt: session.expiresAt, mfaVerifiedUntil: session.mfaVerifiedUntil }
  }
}
