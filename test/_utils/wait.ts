/** Small waiting helpers for tests that observe asynchronous server behaviour. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Resolves once `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}

/**
 * What a test tool does to stand in for long work: wait until its call is cancelled or `maxMs`
 * passes. `record.aborted` is set at the abort itself, so a test polling it sees the server's view.
 */
export function waitForAbort(signal: AbortSignal, maxMs: number, record: { aborted: boolean }): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, maxMs)
    signal.addEventListener('abort', () => {
      record.aborted = true
      clearTimeout(timer)
      resolve()
    })
  })
}
