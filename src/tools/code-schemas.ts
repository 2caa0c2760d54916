/**
 * @module tools/code-schemas
 * Output-schema pieces the code tools share.
 */

/** Which revision of a repository an answer comes from. */
export const REVISION_SCHEMA = {
  type: 'object',
  properties: {
    repo: { type: 'string' },
    revision: { type: 'string' },
    commit: { type: 'string' },
    indexed_at: { type: 'string' },
    files: { type: 'integer' },
    stale: { type: 'boolean' },
  },
  required: ['repo', 'revision', 'indexed_at', 'files', 'stale'],
}

export const CONTEXT_SCHEMA = {
  type: 'array',
  items: {
    type: 'object',
    properties: {
      repo: { type: 'string' },
      path: { type: 'string' },
      start_line: { type: 'integer' },
      end_line: { type: 'integer' },
      symbol: { type: 'string' },
      score: { type: 'number' },
      uri: { type: 'string' },
      tokens: { type: 'integer' },
    },
    required: ['repo', 'path', 'start_line', 'end_line', 'score', 'uri', 'tokens'],
  },
}
