/**
 * @module tools/reindex
 * `reindex` (tier `admin`, audited; no fresh MFA needed beyond the tier's, as it changes nothing
 * but derived data): walks one repository, or all, now, instead of waiting for the next periodic walk.
 */
import { ToolError } from '../core/errors.ts'
import { defineTool } from '../core/registry.ts'
import { NOT_CONFIGURED, type CodeAccess } from '../rag/code-access.ts'

export function reindexTool(access: CodeAccess) {
  return defineTool<{ repo?: string }>({
    name: 'reindex',
    title: 'Re-index repositories',
    description: 'Walks an indexed repository (argument repo), or every one, now: changed files are re-parsed, removed ones dropped. Returns what changed per repository.',
    inputSchema: { type: 'object', properties: { repo: { type: 'string', maxLength: 64 } }, additionalProperties: false },
    outputSchema: {
      type: 'object',
      properties: {
        scans: {
          type: 'array',
          items: {
            type: 'object',
            properties: { repo: { type: 'string' }, added: { type: 'integer' }, changed: { type: 'integer' }, removed: { type: 'integer' }, unchanged: { type: 'integer' }, ms: { type: 'integer' }, revision: { type: 'string' } },
            required: ['repo', 'added', 'changed', 'removed', 'unchanged', 'ms', 'revision'],
          },
        },
      },
      required: ['scans'],
    },
    annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: true, openWorldHint: false },
    tier: 'admin',
    async handler(args) {
      const index = access.index
      if (!index) throw new ToolError(NOT_CONFIGURED)
      const names = args.repo === undefined ? [...index.repos.keys()] : [args.repo]
      if (args.repo !== undefined && !index.repos.has(args.repo)) throw new ToolError(`No indexed repository "${args.repo}": use one of ${[...index.repos.keys()].join(', ')}`)
      const scans = []
      for (const name of names) {
        const summary = await index.scan(name)
        scans.push({ ...summary, revision: index.revision(index.repos.get(name)!) })
      }
      const text = scans.map((s) => `${s.repo}: +${s.added} ~${s.changed} -${s.removed} (${s.unchanged} unchanged) in ${s.ms} ms, revision ${s.revision}`).join('\n')
      return { content: [{ type: 'text', text }], structuredContent: { scans } }
    },
  })
}
