/**
 * ParserPool and its worker (rag/parse-worker.ts): batches are answered as each is done, in the
 * order sent, so the indexer can apply the first while the worker parses the rest.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_PARSER_WORKERS, ParserPool } from '../../src/rag/parser-pool.ts'

const root = mkdtempSync(join(tmpdir(), 'mcprag-pool-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** A Python file of `n` small functions. */
function pythonFile(name: string, n: number): { abs: string; rel: string; lang: string } {
  const body = Array.from({ length: n }, (_, i) => `def ${name}_step_${i}(value, factor):\n    """Scale the value by the factor."""\n    return value * factor + ${i}\n`).join('\n')
  writeFileSync(join(root, `${name}.py`), body)
  return { abs: join(root, `${name}.py`), rel: `${name}.py`, lang: 'python' }
}

test('one worker answers its batches one by one in the order sent, not all together at the end (even those sent while a grammar loads)', async () => {
  const batches = Array.from({ length: 8 }, (_, b) => Array.from({ length: 6 }, (_, f) => pythonFile(`b${b}f${f}`, 150)))
  const pool = new ParserPool(1)
  try {
    // The worker started and warm, but the Python grammar not loaded yet: batches sent while it
    // loads (a build sends them all at once) are what could end up interleaved.
    writeFileSync(join(root, 'warm.ts'), Array.from({ length: 300 }, (_, i) => `export function step${i}(value: number): number {\n  return value * ${i}\n}\n`).join('\n'))
    await pool.parseFiles(root, [{ abs: join(root, 'warm.ts'), rel: 'warm.ts', lang: 'typescript' }], { maxBytes: 1 << 20 })
    const started = performance.now()
    const answeredAt: number[] = []
    const order: number[] = []
    await Promise.all(
      batches.map((jobs, i) =>
        pool.parseFiles(root, jobs, { maxBytes: 1 << 20 }).then((files) => {
          answeredAt[i] = performance.now() - started
          order.push(i)
          expect(files.map((f) => f.status)).toEqual(jobs.map(() => 'parsed'))
        }),
      ),
    )
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7])
    // What one batch costs alone, the grammar loaded (the faster of two tries).
    let one = Infinity
    for (const jobs of batches.slice(0, 2)) {
      const t = performance.now()
      await pool.parseFiles(root, jobs, { maxBytes: 1 << 20 })
      one = Math.min(one, performance.now() - t)
    }
    // Handled concurrently, the batches sent while the grammar loaded would each advance a file
    // in turn and all be answered together at the end (measured: the eight within 10 ms, one
    // batch alone taking 20–30 ms). One at a time, an answer follows each batch's work: about
    // seven batches' time between the first and the last (measured 160–180 ms), whatever the
    // grammar load took.
    expect(answeredAt[7]! - answeredAt[0]!).toBeGreaterThan(2 * one)
  } finally {
    pool.close()
  }
})

test('the default leaves the request thread a core: one worker fewer than the cores, at least one', () => {
  expect(DEFAULT_PARSER_WORKERS).toBe(Math.max(1, navigator.hardwareConcurrency - 1))
})
