/**
 * @module rag/read-source
 * Reads one file for the index, safely: never through a symbolic link, never from outside its
 * repository's root, never a binary file. Returns the text and its SHA-256, or why it was skipped.
 */
import { closeSync, constants, fstatSync, openSync, readSync, realpathSync } from 'node:fs'
import { sep } from 'node:path'

export type SourceRead = { ok: true; content: string; sha256: string; size: number; mtimeMs: number } | { ok: false; reason: string }

const decoder = new TextDecoder('utf-8', { fatal: true })
/** How far into a file a NUL byte is looked for (git's own heuristic for "binary"). */
const BINARY_PROBE_BYTES = 8000

export function readSource(abs: string, rootReal: string, maxBytes: number): SourceRead {
  let fd: number
  try {
    // O_NOFOLLOW: a file swapped for a link after the walk is refused, not followed.
    fd = openSync(abs, constants.O_RDONLY | constants.O_NOFOLLOW)
  } catch (err) {
    return { ok: false, reason: (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'symlink' : 'unreadable' }
  }
  try {
    // A directory on the way swapped for a link would still lead outside: check where we are.
    const real = realpathSync(abs)
    if (real !== rootReal && !real.startsWith(rootReal + sep)) return { ok: false, reason: 'outside root' }
    const stat = fstatSync(fd)
    if (!stat.isFile()) return { ok: false, reason: 'not a file' }
    if (stat.size > maxBytes) return { ok: false, reason: 'too large' }
    const bytes = new Uint8Array(stat.size)
    let read = 0
    while (read < bytes.length) {
      const n = readSync(fd, bytes, read, bytes.length - read, read)
      if (n <= 0) break
      read += n
    }
    const data = bytes.subarray(0, read)
    if (data.subarray(0, BINARY_PROBE_BYTES).includes(0)) return { ok: false, reason: 'binary' }
    let content: string
    try {
      content = decoder.decode(data)
    } catch {
      return { ok: false, reason: 'binary' }
    }
    const sha256 = new Bun.CryptoHasher('sha256').update(data).digest('hex')
    return { ok: true, content, sha256, size: read, mtimeMs: stat.mtimeMs }
  } finally {
    closeSync(fd)
  }
}
