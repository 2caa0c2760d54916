/**
 * @module rag/code-access
 * What the code tools share: the index (absent when no repository is configured) and which
 * repositories a caller may read. A repository is readable at or above its configured tier.
 */
import { ToolError } from '../core/errors.ts'
import type { Principal, Tier } from '../core/types.ts'
import { tierAllows } from '../auth/tier-policy.ts'
import type { CodeIndex, RepoState } from './code-index.ts'

export const NOT_CONFIGURED =
  'No repository is indexed on this server: the operator sets MCPRAG_INDEX_ROOTS="name=/path/to/repo" (comma-separated; add :public to open one to every caller) and restarts it'

export class CodeAccess {
  readonly index: CodeIndex | undefined

  constructor(index: CodeIndex | undefined) {
    this.index = index
  }

  /** The lowest tier any repository is open to: the code tools' own tier. */
  get lowestTier(): Tier {
    const tiers = [...(this.index?.repos.values() ?? [])].map((r) => r.config.tier)
    return tiers.includes('public') ? 'public' : 'user'
  }

  /** The index and the repositories `principal` may read; a ToolError when there is nothing to read. */
  require(principal: Principal): { index: CodeIndex; readable: RepoState[] } {
    if (!this.index) throw new ToolError(NOT_CONFIGURED)
    const readable = this.readable(principal)
    if (readable.length === 0) throw new ToolError('None of the indexed repositories is open to your tier: ask an operator to raise it')
    return { index: this.index, readable }
  }

  readable(principal: Principal): RepoState[] {
    return [...(this.index?.repos.values() ?? [])].filter((r) => tierAllows(principal.tier, r.config.tier))
  }
}
