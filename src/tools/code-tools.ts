/**
 * @module tools/code-tools
 * Builds the code index from the configuration and registers everything that serves it: the
 * tools (`search_code`, `analyze_context`, `generate_code`, admin `index_status` and `reindex`),
 * the `generate_code` prompt and the `mcprag://{repo}/{+path}` resources. The composition root
 * calls `startCodeIndex` once and `close` at shutdown.
 */
import { mkdirSync, realpathSync } from 'node:fs'
import type { Registry } from '../core/registry.ts'
import type { IndexConfig } from '../rag/repo-config.ts'
import { analyzeContextTool } from './analyze-context.ts'
import { generateCodePrompt, generateCodeTool } from './generate-code.ts'
import { indexStatusTool } from './index-status.ts'
import { reindexTool } from './reindex.ts'
import { searchCodeTool } from './search-code.ts'
import { CodeAccess } from '../rag/code-access.ts'
import { CodeIndex } from '../rag/code-index.ts'
import { codeResourceTemplate } from '../rag/code-resources.ts'
import { describeRepo, repoReport } from '../rag/index-report.ts'
import { ParserPool } from '../rag/parser-pool.ts'
import { fileUri } from '../rag/search.ts'

export interface CodeIndexService {
  access: CodeAccess
  /** What is indexed, for the boot output: a line per repository and one about readiness. */
  report(): string[]
  close(): void
}

export interface CodeIndexDeps {
  config: IndexConfig
  dataDir: string
  registry: Registry
  /** `notifications/resources/updated` to the sessions subscribed to `uri`. */
  resourceUpdated(uri: string): Promise<void>
}

export async function startCodeIndex(deps: CodeIndexDeps): Promise<CodeIndexService> {
  const { config, registry } = deps
  const report: string[] = []
  let index: CodeIndex | undefined
  let pool: ParserPool | undefined
  if (config.repos.length > 0) {
    mkdirSync(deps.dataDir, { recursive: true, mode: 0o700 })
    pool = new ParserPool(config.workers)
    const started = performance.now()
    index = await CodeIndex.open(
      {
        repos: config.repos,
        dataDir: deps.dataDir,
        maxFileBytes: config.maxFileBytes,
        pollMs: config.pollMs,
        watch: config.watch,
        // The index lives in the data directory; a root that contains it must not index itself.
        excludePaths: [realpathSync(deps.dataDir)],
      },
      pool,
    )
    const ms = Math.round(performance.now() - started)
    for (const repo of index.repos.values()) report.push(`index: ${describeRepo(repoReport(index, repo))}`)
    report.push(`index: ready in ${ms} ms; ${config.watch ? 'watching for changes' : 'not watching'}${config.pollMs ? `, full walk every ${config.pollMs / 1000} s` : ''}`)
    const i = index
    i.onChange((changes) => {
      for (const c of changes) {
        const repo = i.repos.get(c.repo)
        const file = repo?.files.get(c.path)
        // A removed file is gone from the index: its URI is rebuilt the same way fileUri would.
        const uri = file ? fileUri(file) : `mcprag://${c.repo}/${c.path.split('/').map(encodeURIComponent).join('/')}`
        void deps.resourceUpdated(uri).catch(() => {})
      }
      if (changes.some((c) => c.change !== 'changed')) registry.listChanged('resources')
    })
    i.start()
  } else {
    report.push('index: no repository to index: set MCPRAG_INDEX_ROOTS="name=/path" to serve search_code, analyze_context and generate_code over it')
  }
  const access = new CodeAccess(index)
  registerCodeTools(registry, access)
  return {
    access,
    report: () => report,
    close() {
      index?.close()
      pool?.close()
    },
  }
}

/** The code tools, the `generate_code` prompt and the file resources, over `access`. */
export function registerCodeTools(registry: Registry, access: CodeAccess): void {
  registry.tool(searchCodeTool(access))
  registry.tool(analyzeContextTool(access))
  registry.tool(generateCodeTool(access))
  registry.tool(indexStatusTool(access))
  registry.tool(reindexTool(access))
  registry.prompt(generateCodePrompt(access))
  registry.resourceTemplate(codeResourceTemplate(access))
}
