/**
 * The pre-release conformance suite (npm @modelcontextprotocol/conformance@0.2.0-alpha.12, pinned
 * as `@modelcontextprotocol/conformance-alpha`) run by requirement set against one real server:
 * `--requirements 2026-07-28` (requests that stand alone) and `--requirements 2025-11-25`
 * (initialize and sessions). Every scored scenario (the set's `server` list) must pass with no
 * failed or warned check. The not-scored ones (pending, extensions) run too; their report is
 * printed here for the record and never asserted. The 0.1.16 run is conformance.test.ts.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startTestServer } from './_utils/server.ts'

const SUITE = 'node_modules/@modelcontextprotocol/conformance-alpha'

interface Requirements {
  server: string[]
  not_scored?: { scenario: string; leg: string; reason: string }[]
}

let server: Awaited<ReturnType<typeof startTestServer>>
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.stop())

/** `✓ name: 3 passed, 0 failed` lines of the summary, by scenario. */
function summaryOf(out: string): Map<string, { passed: number; failed: number }> {
  const summary = out.slice(out.lastIndexOf('=== SUMMARY ==='))
  return new Map([...summary.matchAll(/^[✓✗] (\S+): (\d+) passed, (\d+) failed$/gm)].map((m) => [m[1]!, { passed: Number(m[2]), failed: Number(m[3]) }]))
}

for (const revision of ['2026-07-28', '2025-11-25']) {
  test(`--requirements ${revision}: every scored server scenario passes with no failed or warned check`, async () => {
    const required = Bun.YAML.parse(await Bun.file(`${SUITE}/requirements/${revision}.yaml`).text()) as Requirements
    const outDir = `/tmp/mcprag-conformance-alpha-${revision}-${process.pid}`
    await Bun.$`rm -rf ${outDir}`.quiet()
    // The suite's own URL must use a loopback *name* for dns-rebinding-protection to run.
    const url = server.mcpUrl.replace('127.0.0.1', 'localhost')
    const proc = Bun.spawn(['bun', `${SUITE}/dist/index.js`, 'server', '--url', url, '--requirements', revision, '-o', outDir], { stdout: 'pipe', stderr: 'pipe' })
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    const summary = summaryOf(out)
    const scored = required.server.map((name) => ({ name, ...(summary.get(name) ?? { passed: 0, failed: -1 }) }))
    const sum = (key: 'passed' | 'failed') => scored.reduce((n, s) => n + Math.max(0, s[key]), 0)
    console.log(
      `conformance 0.2.0-alpha.12 --requirements ${revision}: scored ${scored.length} scenarios, ${sum('passed')} checks passed, ${sum('failed')} failed` +
        ` (suite ${out.match(/^Total: .*$/m)?.[0] ?? '(no total)'}, the rest not scored)\n${out.slice(out.indexOf(`Not scored for ${revision}`))}`,
    )
    if (code !== 0) console.error(out.slice(out.lastIndexOf('=== SUMMARY ===')), err)

    expect(code).toBe(0)
    expect(required.server.length).toBeGreaterThan(20)
    expect(scored.filter((s) => s.failed !== 0 || s.passed === 0)).toEqual([])
    // Warnings do not fail the suite's exit code: look for them in each scored scenario's checks.
    const dirs = await Array.fromAsync(new Bun.Glob('*/checks.json').scan(outDir))
    for (const name of required.server) {
      const file = dirs.find((d) => d.startsWith(`server-${name}-2`))
      expect({ name, found: file !== undefined }).toEqual({ name, found: true })
      const checks = (await Bun.file(`${outDir}/${file}`).json()) as { id: string; status: string; errorMessage?: string }[]
      const bad = checks.filter((c) => c.status === 'FAILURE' || c.status === 'WARNING').map((c) => `${c.id}: ${c.status} ${c.errorMessage ?? ''}`)
      expect({ name, bad }).toEqual({ name, bad: [] })
    }
  }, 180_000)
}
