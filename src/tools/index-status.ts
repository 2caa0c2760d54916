/**
 * @module tools/index-status
 * `index_status` (tier `admin`, audited): what this instance has indexed, per repository — files
 * and lines per language, what was left out and why, revision, commit, last walk and its errors.
 */
import { defineTool } from '../core/registry.ts'
import type { CodeAccess } from '../rag/code-access.ts'
import { NOT_CONFIGURED } from '../rag/code-access.ts'
import { describeRepo, repoReport } from '../rag/index-report.ts'

export function indexStatusTool(access: CodeAccess) {
  return defineTool<Record<string, never>>({
    name: 'index_status',
    title: 'Code index status',
    description: "This instance's code index: per repository, files and lines per language, files left out and why, revision, commit, last walk and errors; and the ranker's size.",
    inputSchema: { type: 'object', additionalProperties: false },
    outputSchema: {
      type: 'object',
      properties: {
        configured: { type: 'boolean' },
        repos: { type: 'array', items: { type: 'object' } },
        chunks: { type: 'integer' },
        terms: { type: 'integer' },
        ranker_bytes: { type: 'integer' },
      },
      required: ['configured', 'repos'],
    },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    tier: 'admin',
    handler() {
      const index = access.index
      if (!index) return { content: [{ type: 'text', text: NOT_CONFIGURED }], structuredContent: { configured: false, repos: [] } }
      const repos = [...index.repos.values()].map((r) => repoReport(index, r))
      const structuredContent = { configured: true, repos, chunks: index.bm25.live, terms: index.bm25.terms, ranker_bytes: index.bm25.bytes }
      return { content: [{ type: 'text', text: repos.map(describeRepo).join('\n') }], structuredContent }
    },
  })
}
