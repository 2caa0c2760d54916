/**
 * The official MCP conformance suite (npm @modelcontextprotocol/conformance), every 2025-11-25
 * server scenario including the pending ones, against a real server on a loopback port.
 */
import { afterAll, beforeAll, expect, test } from 'bun:test'
import { startTestServer } from './_utils/server.ts'

let server: Awaited<ReturnType<typeof startTestServer>>
beforeAll(async () => {
  server = await startTestServer()
})
afterAll(() => server.stop())

test('the conformance suite passes every 2025-11-25 server scenario with no warnings', async () => {
  const outDir = `/tmp/mcprag-conformance-${process.pid}`
  await Bun.$`rm -rf ${outDir}`.quiet()
  // The suite's own URL must use a loopback *name* for dns-rebinding-protection to run.
  const url = server.mcpUrl.replace('127.0.0.1', 'localhost')
  const proc = Bun.spawn(
    ['bun', 'node_modules/@modelcontextprotocol/conformance/dist/index.js', 'server', '--url', url, '--suite', 'all', '--spec-version', '2025-11-25', '-o', outDir],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  const summary = out.slice(out.indexOf('=== SUMMARY ==='))
  if (code !== 0) console.error(summary, err)
  expect(code).toBe(0)
  expect(summary).toContain('json-schema-2020-12')
  expect(summary).toContain('server-sse-polling')
  expect(summary).toContain('dns-rebinding-protection')
  expect(summary).toMatch(/Total: \d+ passed, 0 failed/)
  // Warnings do not fail the suite's exit code, so look for them in the saved checks.
  const checks = await Array.fromAsync(new Bun.Glob('**/checks.json').scan(outDir))
  expect(checks.length).toBeGreaterThanOrEqual(32)
  for (const f of checks) {
    const text = await Bun.file(`${outDir}/${f}`).text()
    expect({ file: f, warning: text.includes('"WARNING"') }).toEqual({ file: f, warning: false })
  }
}, 180_000)
