/**
 * `search_code` over HTTP with authentication on, against the echo tool on the same server in the
 * same run: the bench's mcprag server (pinned to core 0) indexing this repository's sources, a
 * `user`-tier bearer token minted with the operator CLI, stateless Streamable HTTP, wrk (core 1)
 * with 50 connections, the two tools interleaved round by round.
 */
import { mkdirSync } from 'node:fs'
import { BASE_HEADERS, ECHO_BODY, authEnv, serverEnv, startServer } from '../lib/targets.ts'
import { stop } from '../lib/spawn.ts'
import { ensureWrk, runWrk, writeScript } from '../lib/wrk.ts'

export interface HttpComparison {
  rounds: number
  seconds: number
  connections: number
  query: string
  echo: { rps: number; p50Ms: number; p99Ms: number }
  search: { rps: number; p50Ms: number; p99Ms: number }
  /** Median over rounds of search p99 / echo p99. */
  p99Ratio: number
  /** Median over rounds of echo req/s / search req/s: at saturation, the ratio of per-request cost. */
  costRatio: number
  errors: number
}

const SEARCH_QUERY = 'verify the bearer token and its session'
const searchBody = () => JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'tools/call', params: { name: 'search_code', arguments: { query: SEARCH_QUERY, limit: 10 } } }).replace('"id":0', '"id":{{id}}')

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN

export async function compareOverHttp(runDir: string, log: (s: string) => void, opts: { rounds: number; seconds: number; connections: number }): Promise<HttpComparison> {
  await ensureWrk(log)
  mkdirSync(runDir, { recursive: true })
  const env = { ...authEnv(), MCPRAG_AUDIT_STDOUT: 'off', MCPRAG_INDEX_ROOTS: `mcprag=${process.cwd()}/src`, MCPRAG_INDEX_WATCH: 'off' }
  const { child, url } = await startServer('rag-http', ['bun', 'bench/servers/mcprag.ts'], env, runDir)
  try {
    const cliEnv = { ...serverEnv(env), MCPRAG_PUBLIC_URL: url }
    const cli = (args: string[]) => Bun.spawnSync(['bun', 'src/cli.ts', ...args], { env: cliEnv })
    cli(['user', 'create', 'rag-bench@example.com', '--tier', 'user'])
    const token = cli(['user', 'token', 'rag-bench@example.com', '--ttl', '1d']).stdout.toString().trim().split('\n').pop()
    if (!token) throw new Error('minting a bench token failed')
    const headers = { ...BASE_HEADERS, authorization: `Bearer ${token}` }
    const check = await fetch(`${url}/mcp`, { method: 'POST', headers, body: searchBody().replace('{{id}}', '1') })
    const text = await check.text()
    if (check.status !== 200 || !text.includes('"results"')) throw new Error(`search_code over HTTP failed: ${check.status} ${text.slice(0, 300)}`)
    writeScript(`${runDir}/rag-echo.lua`, ECHO_BODY, headers)
    writeScript(`${runDir}/rag-search.lua`, searchBody(), headers)
    // Warm both paths before measuring.
    await runWrk(`${url}/mcp`, `${runDir}/rag-echo.lua`, opts.connections, 2)
    await runWrk(`${url}/mcp`, `${runDir}/rag-search.lua`, opts.connections, 2)
    const echo: { rps: number; p50: number; p99: number }[] = []
    const search: typeof echo = []
    let errors = 0
    for (let round = 0; round < opts.rounds; round++) {
      const order = round % 2 ? (['search', 'echo'] as const) : (['echo', 'search'] as const)
      for (const which of order) {
        const w = await runWrk(`${url}/mcp`, `${runDir}/rag-${which}.lua`, opts.connections, opts.seconds)
        errors += w.errors.connect + w.errors.read + w.errors.write + w.errors.status + w.errors.timeout
        ;(which === 'echo' ? echo : search).push({ rps: w.requests / w.durationS, p50: w.latencyUs.p50 / 1000, p99: w.latencyUs.p99 / 1000 })
        log(`rag http round ${round + 1}: ${which} ${Math.round(w.requests / w.durationS)} req/s, p99 ${(w.latencyUs.p99 / 1000).toFixed(2)} ms`)
      }
    }
    const summary = (xs: typeof echo) => ({ rps: Math.round(median(xs.map((x) => x.rps))), p50Ms: Math.round(median(xs.map((x) => x.p50)) * 100) / 100, p99Ms: Math.round(median(xs.map((x) => x.p99)) * 100) / 100 })
    return {
      rounds: opts.rounds,
      seconds: opts.seconds,
      connections: opts.connections,
      query: SEARCH_QUERY,
      echo: summary(echo),
      search: summary(search),
      p99Ratio: Math.round(median(search.map((s, i) => s.p99 / echo[i]!.p99)) * 100) / 100,
      costRatio: Math.round(median(search.map((s, i) => echo[i]!.rps / s.rps)) * 100) / 100,
      errors,
    }
  } finally {
    await stop(child)
  }
}
