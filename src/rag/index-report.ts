/**
 * @module rag/index-report
 * What is indexed, per repository: files and lines per language, what was left out and why, the
 * revision, the last walk. The boot output, `index_status` and the CLI all print this.
 */
import type { CodeIndex, RepoState } from './code-index.ts'

export interface RepoReport {
  repo: string
  tier: string
  revision: string
  commit?: string
  files: number
  lines: number
  languages: Record<string, { files: number; lines: number }>
  skipped: Record<string, number>
  last_scan_at?: string
  last_scan_ms?: number
  last_error?: string
  pending: number
}

export function repoReport(index: CodeIndex, repo: RepoState): RepoReport {
  const languages: Record<string, { files: number; lines: number }> = {}
  let lines = 0
  for (const f of repo.files.values()) {
    const l = (languages[f.lang] ??= { files: 0, lines: 0 })
    l.files++
    l.lines += f.lines
    lines += f.lines
  }
  const r: RepoReport = { repo: repo.config.name, tier: repo.config.tier, revision: index.revision(repo), files: repo.files.size, lines, languages, skipped: repo.skipped, pending: repo.pending }
  if (repo.commit) r.commit = repo.commit
  if (repo.lastScanAt !== undefined) r.last_scan_at = new Date(repo.lastScanAt).toISOString()
  if (repo.lastScanMs !== undefined) r.last_scan_ms = repo.lastScanMs
  if (repo.lastError) r.last_error = repo.lastError
  return r
}

/** One line for people: `app: 120 files, 15,234 lines (typescript 80/12,000, python 40/3,234), revision …`. */
export function describeRepo(r: RepoReport): string {
  const n = (x: number) => x.toLocaleString('en-US')
  const langs = Object.entries(r.languages)
    .sort((a, b) => b[1].lines - a[1].lines)
    .map(([lang, s]) => `${lang} ${n(s.files)} files/${n(s.lines)} lines`)
    .join(', ')
  const skipped = Object.entries(r.skipped).map(([why, count]) => `${count} ${why}`).join(', ')
  return `${r.repo} (tier ${r.tier}): ${n(r.files)} files, ${n(r.lines)} lines${langs ? ` [${langs}]` : ''}, revision ${r.revision}${r.commit ? ` at commit ${r.commit.slice(0, 10)}` : ''}${skipped ? `; left out: ${skipped}` : ''}`
}
