/**
 * The code-retrieval benchmark of issue 10, run by `bun run bench` after the transport benchmark
 * (or alone): the retrieval evaluation, speed and memory at about a million lines (in a process
 * of its own), and search_code against echo over HTTP with authentication on. Writes
 * `bench/out/report/rag.json` and the "Code retrieval" section of BENCHMARKS.md.
 *
 *   bun run bench/rag.ts            full run (≈ 2–3 min)
 *   bun run bench/rag.ts --quick    smaller corpus and shorter HTTP rounds; writes bench/out/quick/
 *   options: --no-http --no-scale --lines N --out PATH
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { loadavg } from 'node:os'
import { DEFAULT_PARSER_WORKERS, ParserPool } from '../src/rag/parser-pool.ts'
import { pythonStdlib, TYPESCRIPT_SOURCES } from './rag/corpora.ts'
import { commitEval, docstringEval, type EvalResult } from './rag/eval.ts'
import { compareOverHttp } from './rag/http.ts'
import { renderRag, spliceRag, type RagResults, type ScaleResult } from './rag/report.ts'

export interface RagBenchOptions {
  quick: boolean
  http: boolean
  scale: boolean
  lines: number
  reportPath: string
  outDir: string
  runDir: string
  log(s: string): void
}

export async function runRagBench(o: RagBenchOptions): Promise<RagResults> {
  const t0 = performance.now()
  const results: RagResults = { date: new Date().toISOString(), git: Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD']).stdout.toString().trim(), durationS: 0, load: [loadavg()[0]!, 0], evals: [], errors: [] }
  const pool = new ParserPool(DEFAULT_PARSER_WORKERS)
  try {
    const run = async (label: string, work: () => Promise<EvalResult>) => {
      o.log(`rag: ${label}`)
      try {
        results.evals.push(await work())
      } catch (err) {
        results.errors.push(`${label}: ${(err as Error).message}`)
      }
    }
    await run('TypeScript docstring evaluation', () => docstringEval('TypeScript docstring → definition', TYPESCRIPT_SOURCES, pool))
    await run('Python docstring evaluation', () => docstringEval('Python docstring → definition', [{ name: 'stdlib', path: pythonStdlib() }], pool))
    await run('commit evaluation', () => commitEval(process.cwd(), pool))
  } finally {
    pool.close()
  }
  if (o.scale) {
    o.log(`rag: speed and memory at ${o.lines.toLocaleString('en-US')} lines (own processes)`)
    // Not pinned: the build's parser workers need the second core, as they would in a server.
    const cmd = ['bun', 'bench/rag/scale.ts', '--lines', String(o.lines)]
    const proc = Bun.spawnSync(cmd, { stdout: 'pipe', stderr: 'pipe' })
    const m = /SCALE_JSON (\{.*\})/.exec(proc.stdout.toString())
    if (m) results.scale = JSON.parse(m[1]!) as ScaleResult
    else results.errors.push(`scale: bench/rag/scale.ts failed (exit ${proc.exitCode}): ${proc.stderr.toString().slice(-500)}`)
  }
  if (o.http) {
    o.log('rag: search_code vs echo over HTTP')
    try {
      results.http = await compareOverHttp(o.runDir, o.log, o.quick ? { rounds: 2, seconds: 2, connections: 50 } : { rounds: 4, seconds: 5, connections: 50 })
    } catch (err) {
      results.errors.push(`http: ${(err as Error).message}`)
    }
  }
  results.durationS = (performance.now() - t0) / 1000
  results.load[1] = loadavg()[0]!
  mkdirSync(o.outDir, { recursive: true })
  writeFileSync(`${o.outDir}/rag.json`, JSON.stringify(results, null, 2))
  spliceRag(o.reportPath, renderRag(results))
  o.log(`rag: wrote ${o.outDir}/rag.json and the code-retrieval section of ${o.reportPath}`)
  return results
}

if (import.meta.main) {
  const argv = process.argv.slice(2)
  const flag = (name: string) => argv.includes(`--${name}`)
  const option = (name: string) => {
    const i = argv.indexOf(`--${name}`)
    return i >= 0 ? argv[i + 1] : undefined
  }
  const quick = flag('quick')
  const outDir = quick ? 'bench/out/quick' : 'bench/out/report'
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  await runRagBench({
    quick,
    http: !flag('no-http'),
    scale: !flag('no-scale'),
    lines: Number(option('lines') ?? (quick ? 300_000 : 1_000_000)),
    reportPath: option('out') ?? (quick ? `${outDir}/BENCHMARKS.md` : 'BENCHMARKS.md'),
    outDir,
    runDir: `bench/out/runs/rag-${stamp}`,
    log: (s) => console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}`),
  })
  process.exit(0)
}
