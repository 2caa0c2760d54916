/**
 * @module rag/import-resolver
 * Which indexed file an import names, by the language's own lookup rules where they are simple
 * (relative TypeScript/JavaScript specifiers, Python modules and packages, Go package folders).
 * Heuristic like aider's: path aliases and installed packages resolve to nothing.
 */
import { posix } from 'node:path'
import type { RepoState } from './code-index.ts'

const ECMA_EXTENSIONS = ['', '.ts', '.tsx', '.d.ts', '.js', '.jsx', '.mjs', '.cjs', '/index.ts', '/index.tsx', '/index.js']

export function resolveImport(repo: RepoState, from: string, source: string, lang: string): string | undefined {
  const has = (p: string) => repo.files.has(p)
  if (lang === 'python') return resolvePython(repo, from, source)
  if (lang === 'go') return resolveGo(repo, source)
  if (!source.startsWith('.')) return undefined
  const base = posix.normalize(posix.join(posix.dirname(from), source))
  if (base.startsWith('..')) return undefined
  // `./x.js` written for ESM output names `x.ts` in the sources.
  const stems = [base, base.replace(/\.(m|c)?js$/, '')]
  for (const stem of stems) for (const ext of ECMA_EXTENSIONS) if (has(stem + ext)) return stem + ext
  return undefined
}

function resolvePython(repo: RepoState, from: string, source: string): string | undefined {
  const dots = /^\.*/.exec(source)![0].length
  const module = source.slice(dots).split('.').filter(Boolean).join('/')
  const candidates = (dir: string) => {
    const base = dir ? (module ? `${dir}/${module}` : dir) : module
    return [`${base}.py`, `${base}/__init__.py`]
  }
  if (dots > 0) {
    let dir = posix.dirname(from)
    for (let i = 1; i < dots; i++) dir = posix.dirname(dir)
    if (dir === '.') dir = ''
    return candidates(dir).find((p) => repo.files.has(p))
  }
  const direct = candidates('').find((p) => repo.files.has(p))
  if (direct) return direct
  // A package rooted below the repository's top (`src/pkg/...`): the shortest path that ends so.
  let best: string | undefined
  for (const suffix of candidates('')) {
    for (const path of repo.files.keys()) if (path.endsWith(`/${suffix}`) && (!best || path.length < best.length)) best = path
  }
  return best
}

function resolveGo(repo: RepoState, source: string): string | undefined {
  const parts = source.split('/')
  // The longest tail of the import path that is a folder of the repository.
  for (let i = 0; i < parts.length; i++) {
    const dir = parts.slice(i).join('/')
    let first: string | undefined
    for (const path of repo.files.keys()) {
      if (!path.endsWith('.go') || path.endsWith('_test.go') || posix.dirname(path) !== dir) continue
      if (!first || path < first) first = path
    }
    if (first) return first
  }
  return undefined
}
