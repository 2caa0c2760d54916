/**
 * @module rag/walker
 * Lists the files of a repository that may be indexed: `.gitignore` rules (every level), safe
 * default excludes (VCS folders, dependencies, build outputs, lockfiles, minified files, files over
 * the size limit) and, always, secrets (`.env*`, keys, certificates, credential files). Symbolic
 * links are never followed, so nothing outside the root is reached.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import ignore, { type Ignore } from 'ignore'
import { languageOf } from './languages.ts'

export interface WalkEntry {
  rel: string
  abs: string
  lang: string
  size: number
  mtimeMs: number
}

export interface WalkOptions {
  maxFileBytes: number
  /** Absolute paths never to enter (the server's own data directory, when it sits inside a root). */
  excludePaths?: string[]
  /** Leave build-output folders (`dist`, `build`, `out`, `lib` …) in; the benchmark corpus needs them. */
  includeBuildDirs?: boolean
}

export interface WalkResult {
  files: WalkEntry[]
  /** Why files were left out, with counts (secrets are counted, never named). */
  skipped: Record<string, number>
}

const VCS_AND_TOOL_DIRS = new Set(['.git', '.hg', '.svn', '.jj', 'node_modules', 'bower_components', '__pycache__', '.venv', 'venv', '.tox', '.mypy_cache', '.pytest_cache', '.ruff_cache', '.cache', '.idea', '.gradle', '.terraform', '.yarn', '.pnpm-store'])
const BUILD_DIRS = new Set(['dist', 'build', 'out', 'target', 'vendor', 'coverage', '.next', '.nuxt', '.svelte-kit', '.output', '.turbo', '.parcel-cache'])
const LOCKFILES = new Set(['package-lock.json', 'yarn.lock', 'pnpm-lock.yaml', 'bun.lock', 'bun.lockb', 'Cargo.lock', 'poetry.lock', 'Pipfile.lock', 'composer.lock', 'go.sum', 'Gemfile.lock', 'uv.lock', 'npm-shrinkwrap.json'])
const SECRET_NAMES = new Set(['.npmrc', '.pypirc', '.netrc', '.htpasswd', '.git-credentials', 'credentials', 'credentials.json', 'secrets.json', 'secrets.yaml', 'secrets.yml', 'service-account.json', 'jwt-secret', 'totp-key'])
const SECRET_EXTENSIONS = new Set(['pem', 'key', 'p12', 'pfx', 'crt', 'cer', 'der', 'jks', 'keystore', 'kdbx', 'gpg', 'asc', 'ovpn', 'tfstate', 'tfvars'])

/** True for names that hold secrets: never indexed, never served, whatever the configuration says. */
export function isSecretName(name: string): boolean {
  const lower = name.toLowerCase()
  if (lower === '.env' || lower.startsWith('.env.') || lower.endsWith('.env')) return true
  if (/^id_(rsa|dsa|ecdsa|ed25519)/.test(lower)) return true
  if (SECRET_NAMES.has(lower)) return true
  const dot = lower.lastIndexOf('.')
  return dot > 0 && SECRET_EXTENSIONS.has(lower.slice(dot + 1))
}

/** Why a file name is never indexed, or undefined. */
function excludedName(name: string): string | undefined {
  if (isSecretName(name)) return 'secret'
  if (LOCKFILES.has(name)) return 'lockfile'
  if (/\.min\.[a-z]+$/i.test(name) || name.endsWith('.map')) return 'minified'
  return undefined
}

interface Rules {
  base: string
  ig: Ignore
}

export function walkRepository(root: string, options: WalkOptions): WalkResult {
  const files: WalkEntry[] = []
  const skipped: Record<string, number> = {}
  const skip = (reason: string) => (skipped[reason] = (skipped[reason] ?? 0) + 1)
  const excluded = new Set(options.excludePaths ?? [])

  const visit = (dirRel: string, rules: Rules[]) => {
    const dirAbs = dirRel === '' ? root : join(root, dirRel)
    const own = gitignoreIn(dirAbs)
    const active = own ? [...rules, { base: dirRel, ig: own }] : rules
    let entries
    try {
      entries = readdirSync(dirAbs, { withFileTypes: true })
    } catch {
      skip('unreadable')
      return
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    for (const e of entries) {
      const rel = dirRel === '' ? e.name : `${dirRel}/${e.name}`
      const abs = join(root, rel)
      if (e.isSymbolicLink()) {
        skip('symlink')
        continue
      }
      if (excluded.has(abs)) continue
      if (e.isDirectory()) {
        if (VCS_AND_TOOL_DIRS.has(e.name) || (!options.includeBuildDirs && BUILD_DIRS.has(e.name))) continue
        if (ignored(active, rel, true)) continue
        visit(rel, active)
        continue
      }
      if (!e.isFile()) continue
      const why = excludedName(e.name)
      if (why) {
        skip(why)
        continue
      }
      if (ignored(active, rel, false)) {
        skip('gitignored')
        continue
      }
      const lang = languageOf(rel)
      if (!lang) {
        skip('not text')
        continue
      }
      let stat
      try {
        stat = statSync(abs)
      } catch {
        skip('unreadable')
        continue
      }
      if (stat.size > options.maxFileBytes) {
        skip('too large')
        continue
      }
      files.push({ rel, abs, lang, size: stat.size, mtimeMs: stat.mtimeMs })
    }
  }
  visit('', [])
  return { files, skipped }
}

/** The rules of one directory's `.gitignore`, if it has one. */
function gitignoreIn(dir: string): Ignore | undefined {
  let text: string
  try {
    text = readFileSync(join(dir, '.gitignore'), 'utf8')
  } catch {
    return undefined
  }
  return ignore().add(text)
}

function ignored(rules: Rules[], rel: string, isDir: boolean): boolean {
  for (const { base, ig } of rules) {
    const local = base === '' ? rel : rel.slice(base.length + 1)
    if (ig.ignores(isDir ? `${local}/` : local)) return true
  }
  return false
}

/** Whether one repository-relative path would be walked (for change events between full walks). */
export function isIndexable(root: string, rel: string, options: WalkOptions): boolean {
  const parts = rel.split('/')
  const name = parts[parts.length - 1]!
  if (excludedName(name) || !languageOf(rel)) return false
  for (const dir of parts.slice(0, -1)) if (VCS_AND_TOOL_DIRS.has(dir) || (!options.includeBuildDirs && BUILD_DIRS.has(dir))) return false
  const rules: Rules[] = []
  for (let i = 0; i < parts.length; i++) {
    const base = parts.slice(0, i).join('/')
    const ig = gitignoreIn(base === '' ? root : join(root, base))
    if (ig) rules.push({ base, ig })
    if (i < parts.length - 1 && ignored(rules, parts.slice(0, i + 1).join('/'), true)) return false
  }
  if (options.excludePaths?.some((p) => join(root, rel).startsWith(p))) return false
  return !ignored(rules, rel, false)
}
