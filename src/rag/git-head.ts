/**
 * @module rag/git-head
 * The commit a work tree has checked out, read from `.git` directly (no process spawned): shown
 * beside the index's own revision, which also moves with uncommitted edits.
 */
import { readFileSync, statSync } from 'node:fs'
import { join, resolve } from 'node:path'

export function gitCommit(root: string): string | undefined {
  try {
    let gitDir = join(root, '.git')
    // A worktree or submodule has a `.git` file that points at the real directory.
    if (statSync(gitDir).isFile()) {
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(gitDir, 'utf8'))
      if (!m) return undefined
      gitDir = resolve(root, m[1]!.trim())
    }
    const head = readFileSync(join(gitDir, 'HEAD'), 'utf8').trim()
    if (!head.startsWith('ref: ')) return /^[0-9a-f]{40}$/.test(head) ? head : undefined
    const ref = head.slice(5)
    for (const dir of [gitDir, commonDir(gitDir)]) {
      try {
        const sha = readFileSync(join(dir, ref), 'utf8').trim()
        if (/^[0-9a-f]{40}$/.test(sha)) return sha
      } catch {
        // not a loose ref here; try packed refs below
      }
      try {
        for (const line of readFileSync(join(dir, 'packed-refs'), 'utf8').split('\n')) {
          const [sha, name] = line.split(' ')
          if (name === ref && sha && /^[0-9a-f]{40}$/.test(sha)) return sha
        }
      } catch {
        // no packed refs
      }
    }
  } catch {
    // not a git work tree
  }
  return undefined
}

function commonDir(gitDir: string): string {
  try {
    return resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim())
  } catch {
    return gitDir
  }
}
