/** Small waiting helpers for tests that observe asynchronous server behaviour. */

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Resolves once `predicate` holds, polling every 10 ms; rejects after `timeoutMs`. */
export async function until(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(10)
  }
}
