/**
 * @module tools/search-code
 * `search_code`: ranked chunks of the indexed repositories for words, identifiers or a quoted
 * phrase, with `path:` `lang:` `symbol:` `repo:` qualifiers; `mode` `exact` for substrings and
 * `symbol` for definitions by name. Each hit comes with a resource link to its file.
 */
import { ToolError } from '../core/errors.ts'
import { defineTool } from '../core/registry.ts'
import type { ContentBlock } from '../core/types.ts'
import type { CodeAccess } from '../rag/code-access.ts'
import { mimeTypeOf } from '../rag/languages.ts'
import { SearchInputError, searchCode, type SearchRequest, type SearchResponse } from '../rag/search.ts'
import { REVISION_SCHEMA } from './code-schemas.ts'

const HIT_SCHEMA = {
  type: 'object',
  properties: {
    rank: { type: 'integer' },
    score: { type: 'number' },
    repo: { type: 'string' },
    path: { type: 'string' },
    language: { type: 'string' },
    symbol: { type: 'string' },
    kind: { type: 'string' },
    start_line: { type: 'integer' },
    end_line: { type: 'integer' },
    snippet: { type: 'string' },
    uri: { type: 'string' },
    revision: { type: 'string' },
    matches: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, text: { type: 'string' } }, required: ['line', 'text'] } },
  },
  required: ['rank', 'score', 'repo', 'path', 'language', 'symbol', 'kind', 'start_line', 'end_line', 'snippet', 'uri', 'revision'],
}

/** The readable answer: one line per hit and its first lines, then a link per hit. */
export function searchContent(r: SearchResponse): ContentBlock[] {
  if (r.results.length === 0) return [{ type: 'text', text: `No results for ${JSON.stringify(r.query)} (${r.mode}).` }]
  const text = r.results
    .map((h) => `${h.rank}. ${h.repo}:${h.path}:${h.start_line}-${h.end_line}${h.symbol ? ` ${h.symbol}` : ''} (${h.kind}, score ${h.score})\n${h.snippet}`)
    .join('\n\n')
  const links: ContentBlock[] = r.results.map((h) => ({ type: 'resource_link', uri: h.uri, name: `${h.path}:${h.start_line}-${h.end_line}`, mimeType: mimeTypeOf(h.language) }))
  return [{ type: 'text', text }, ...links]
}

export function searchCodeTool(access: CodeAccess) {
  return defineTool<SearchRequest>({
    name: 'search_code',
    title: 'Search code',
    description:
      'Searches the indexed repositories and returns ranked code chunks (path, lines, symbol, snippet, score, revision, and a resource link). ' +
      'Arguments: query (words, identifiers or a "quoted phrase"; qualifiers path:src/auth lang:ts symbol:verify repo:name), ' +
      'language, limit (1-50, default 10), path (prefix, or a pattern with * and ?), repo, mode (auto ranks by relevance; exact finds a substring of 3+ characters; symbol finds definitions by name), include_tests (default true). ' +
      'No regular expressions.',
    inputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 500, description: 'Words, identifiers or "exact phrase"; qualifiers path:src/auth lang:ts symbol:verifyTotp repo:name' },
        language: { type: 'string', maxLength: 32, description: 'typescript, javascript, python, go, … or a file extension (ts, py)' },
        limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
        path: { type: 'string', maxLength: 300, description: 'Only files under this path prefix, or matching this pattern (* and ?)' },
        repo: { type: 'string', maxLength: 64, description: 'An indexed repository name; default: every one you may read' },
        mode: { type: 'string', enum: ['auto', 'symbol', 'exact'], default: 'auto' },
        include_tests: { type: 'boolean', default: true },
      },
      required: ['query'],
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: {
        query: { type: 'string' },
        mode: { type: 'string' },
        took_ms: { type: 'number' },
        total_candidates: { type: 'integer' },
        index: { type: 'array', items: REVISION_SCHEMA },
        results: { type: 'array', items: HIT_SCHEMA },
      },
      required: ['query', 'mode', 'took_ms', 'total_candidates', 'index', 'results'],
    },
    annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
    tier: access.lowestTier,
    handler(args, ctx) {
      const { index, readable } = access.require(ctx.principal)
      let result: SearchResponse
      try {
        result = searchCode(index, args, readable)
      } catch (err) {
        if (err instanceof SearchInputError) throw new ToolError(err.message)
        throw err
      }
      return { content: searchContent(result), structuredContent: result as unknown as Record<string, unknown> }
    },
  })
}
