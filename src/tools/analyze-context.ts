/**
 * @module tools/analyze-context
 * `analyze_context`: one round trip for what an agent otherwise gathers with several calls — a
 * file's or symbol's outline with signatures and complexity, imports and importers, callers and
 * callees, related files, and a one-line summary. A pasted snippet is parsed and resolved against
 * the index instead.
 */
import { ToolError } from '../core/errors.ts'
import { defineTool } from '../core/registry.ts'
import { AnalyzeInputError, SECTIONS, analyzeContext, type AnalyzeRequest, type AnalyzeResult } from '../rag/analyze.ts'
import type { CodeAccess } from '../rag/code-access.ts'
import { SearchInputError } from '../rag/search.ts'
import { REVISION_SCHEMA } from './code-schemas.ts'

const list = { type: 'array', items: { type: 'object' } }

function render(r: AnalyzeResult): string {
  const lines = [r.summary]
  if (r.outline?.length) lines.push('', 'Outline:', ...r.outline.map((o) => `  ${o.start_line}-${o.end_line} ${o.kind} ${o.signature}${o.complexity && o.complexity.cyclomatic > 1 ? ` [cyclomatic ${o.complexity.cyclomatic}]` : ''}`))
  if (r.imports?.length) lines.push('', 'Imports:', ...r.imports.map((i) => `  ${i.source}${i.resolved_path ? ` -> ${i.resolved_path}` : ''}${i.names.length ? ` {${i.names.join(', ')}}` : ''}`))
  if (r.importers?.length) lines.push('', 'Imported by:', ...r.importers.map((i) => `  ${i.path}:${i.line}`))
  if (r.callees?.length) lines.push('', 'Calls:', ...r.callees.map((c) => `  ${c.name} ×${c.calls}${c.defined_in ? ` (${c.defined_in}:${c.line})` : ''}`))
  if (r.callers?.length) lines.push('', 'Called from:', ...r.callers.map((c) => `  ${c.path}:${c.line}${c.symbol ? ` in ${c.symbol}` : ''}`))
  if (r.related?.length) lines.push('', 'Related files:', ...r.related.map((f) => `  ${f.path} (${f.reason}, ${f.score})`))
  if (r.similar?.length) lines.push('', 'Similar code:', ...r.similar.map((s) => `  ${s.path}:${s.start_line}-${s.end_line} ${s.symbol}`))
  return lines.join('\n')
}

export function analyzeContextTool(access: CodeAccess) {
  return defineTool<AnalyzeRequest>({
    name: 'analyze_context',
    title: 'Analyze code context',
    description:
      'Explains where code sits in its repository. Give exactly one of: file_path (relative to the repository root, or an mcprag:// URI), ' +
      'symbol (a definition name, case-sensitive), or code (a snippet, with language). Optional: repo, include (any of ' +
      `${SECTIONS.join(', ')}; default all), limit (items per list, default 10). Returns the outline with signatures and cyclomatic complexity, ` +
      'imports and importers, callees and callers (resolved by name through the index: heuristic), related files (PageRank over imports and calls), and a one-line summary.',
    inputSchema: {
      type: 'object',
      properties: {
        file_path: { type: 'string', minLength: 1, maxLength: 500 },
        symbol: { type: 'string', minLength: 1, maxLength: 200 },
        code: { type: 'string', minLength: 1, maxLength: 100_000 },
        language: { type: 'string', maxLength: 32, description: 'Language of `code` (typescript, javascript, python, go); default typescript' },
        repo: { type: 'string', maxLength: 64 },
        include: { type: 'array', items: { type: 'string', enum: [...SECTIONS] }, uniqueItems: true },
        limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
      },
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        target: { type: 'object', properties: { repo: { type: 'string' }, path: { type: 'string' }, language: { type: 'string' }, lines: { type: 'integer' } }, required: ['language', 'lines'] },
        index: REVISION_SCHEMA,
        outline: list,
        imports: list,
        importers: list,
        callees: list,
        callers: list,
        related: list,
        similar: list,
        other_definitions: list,
        summary: { type: 'string' },
      },
      required: ['target', 'summary'],
    },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    tier: access.lowestTier,
    async handler(args, ctx) {
      const { index, readable } = access.require(ctx.principal)
      let result: AnalyzeResult
      try {
        result = await analyzeContext(index, args, readable)
      } catch (err) {
        if (err instanceof AnalyzeInputError || err instanceof SearchInputError) throw new ToolError(err.message)
        throw err
      }
      return { content: [{ type: 'text', text: render(result) }], structuredContent: result as unknown as Record<string, unknown> }
    },
  })
}
