/**
 * @module rag/repo-config
 * `MCPRAG_INDEX_ROOTS="name=/path[:tier],…"` → the repositories to index. Parsed and checked at
 * boot (by `config.ts`, the only reader of the environment): names are URI-safe, roots exist and
 * are directories, resolved through symbolic links once, here.
 */
import { realpathSync, statSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import type { Tier } from '../core/types.ts'

export interface RepoConfig {
  /** Used in URIs (`mcprag://{name}/…`) and tool arguments. */
  name: string
  /** Absolute path as configured. */
  path: string
  /** The same path with every symbolic link resolved: nothing outside it is ever read. */
  rootReal: string
  /** The lowest tier that may read it (`user` unless opened to `public`). */
  tier: Tier
}

/** The code index's settings (read and checked by `config.ts`). */
export interface IndexConfig {
  repos: RepoConfig[]
  /** A full walk of every repository this often (0: only at boot, on `reindex` and on watched changes). */
  pollMs: number
  /** Watch the repositories for changes (a change is searchable within a second). */
  watch: boolean
  maxFileBytes: number
  /** Parser threads. */
  workers: number
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/
const TIERS: Tier[] = ['public', 'user', 'admin']

/** Parses the setting; problems are pushed to `problems` as actionable sentences. */
export function parseIndexRoots(raw: string | undefined, problems: string[], cwd = process.cwd()): RepoConfig[] {
  if (raw === undefined || raw.trim() === '') return []
  const repos: RepoConfig[] = []
  const example = 'set name=/path[:tier] entries separated by commas, such as MCPRAG_INDEX_ROOTS="app=/srv/app,docs=/srv/docs:public"'
  for (const entry of raw.split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = entry.indexOf('=')
    if (eq <= 0) {
      problems.push(`MCPRAG_INDEX_ROOTS entry "${entry}" has no name: ${example}`)
      continue
    }
    const name = entry.slice(0, eq).trim()
    let path = entry.slice(eq + 1).trim()
    let tier: Tier = 'user'
    const colon = path.lastIndexOf(':')
    if (colon > 0 && TIERS.includes(path.slice(colon + 1) as Tier)) {
      tier = path.slice(colon + 1) as Tier
      path = path.slice(0, colon)
    }
    if (!NAME.test(name)) {
      problems.push(`MCPRAG_INDEX_ROOTS name "${name}" is invalid: use 1-64 letters, digits, _ . - (it appears in mcprag:// URIs)`)
      continue
    }
    if (repos.some((r) => r.name === name)) {
      problems.push(`MCPRAG_INDEX_ROOTS names "${name}" twice: give each repository its own name`)
      continue
    }
    const abs = isAbsolute(path) ? path : resolve(cwd, path)
    let rootReal: string
    try {
      rootReal = realpathSync(abs)
      if (!statSync(rootReal).isDirectory()) throw new Error('not a directory')
    } catch {
      problems.push(`MCPRAG_INDEX_ROOTS "${name}": ${abs} is not a readable directory: point it at a folder to index`)
      continue
    }
    repos.push({ name, path: rootReal, rootReal, tier })
  }
  return repos
}
