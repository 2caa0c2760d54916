/**
 * @module rag/repo-watcher
 * Change events for a repository's tree, settled: paths changed within WATCH_SETTLE_MS arrive
 * together (an editor's save is several events). A watcher that cannot start or stops is logged,
 * not fatal: the periodic walk still finds what changed.
 */
import { watch, type FSWatcher } from 'node:fs'

/** Changes arriving within this window are handled together. */
export const WATCH_SETTLE_MS = 30

export function watchRepository(name: string, root: string, onChanged: (paths: string[]) => void): FSWatcher | undefined {
  const pending = new Set<string>()
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const watcher = watch(root, { recursive: true }, (_event, filename) => {
      if (!filename) return
      pending.add(String(filename).split('\\').join('/'))
      timer ??= setTimeout(() => {
        timer = undefined
        const paths = [...pending]
        pending.clear()
        onChanged(paths)
      }, WATCH_SETTLE_MS)
    })
    watcher.on('error', (err) => console.error(`[index] ${name}: watcher stopped (${err.message}); the periodic walk still runs`))
    return watcher
  } catch (err) {
    console.error(`[index] ${name}: cannot watch for changes (${(err as Error).message}); the periodic walk still runs`)
    return undefined
  }
}
