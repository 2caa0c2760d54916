/**
 * @module oauth/scopes
 * The scopes this authorization server grants. `mcp:tools` is the baseline every grant has;
 * `mcp:admin` lets an admin user's client call admin tools and is granted only with a fresh TOTP
 * code; `offline_access` is accepted and ignored (refresh tokens are always issued, MCP 2026-07-28
 * says servers should not require it). Pure.
 */
import { SCOPE_ADMIN, SCOPE_TOOLS } from '../auth/resources.ts'

export const OFFLINE_ACCESS = 'offline_access'
export const SUPPORTED_SCOPES = [SCOPE_TOOLS, SCOPE_ADMIN, OFFLINE_ACCESS] as const

/** RFC 6749 §3.3 scope-token characters. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/

export type ScopeResult = { ok: true; scopes: string[] } | { ok: false; unknown: string[] }

/**
 * The scopes a request asks for, normalised: known ones only, baseline always included,
 * `offline_access` dropped, sorted so that equal sets compare equal. Empty means the baseline.
 */
export function parseScope(raw: unknown): ScopeResult {
  const asked = typeof raw === 'string' ? raw.split(' ').filter(Boolean) : []
  const unknown = asked.filter((s) => !SCOPE_TOKEN.test(s) || !(SUPPORTED_SCOPES as readonly string[]).includes(s))
  if (unknown.length) return { ok: false, unknown }
  const set = new Set([SCOPE_TOOLS, ...asked.filter((s) => s !== OFFLINE_ACCESS)])
  return { ok: true, scopes: [...set].sort() }
}

export const scopeString = (scopes: readonly string[]) => [...scopes].sort().join(' ')
