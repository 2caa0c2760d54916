/**
 * @module tools/audit-query
 * `audit_query` (tier `admin`, so it needs a fresh MFA): reads the audit log, newest first,
 * filtered by time, user, event kind, tool or outcome. Its own calls are audited like any tool's.
 */
import { ToolError } from '../core/errors.ts'
import { defineTool } from '../core/registry.ts'
import { normaliseEmail } from '../auth/email.ts'
import type { AuditQuery, AuditRecord } from '../auth/stores.ts'

export interface AuditReader {
  query(q: AuditQuery): Promise<AuditRecord[]>
}

interface Args {
  since?: string
  until?: string
  user?: string
  kind?: string
  tool?: string
  outcome?: string
  limit?: number
}

const MAX_LIMIT = 200

export function auditQueryTool(audit: AuditReader) {
  return defineTool<Args>({
    name: 'audit_query',
    title: 'Query the audit log',
    description:
      'Returns audit records (tool calls and sign-in events), newest first. Filter by ISO time range, user (email or user id), kind (tool_call, login_completed, mfa_failed, …), tool or outcome.',
    inputSchema: {
      type: 'object',
      properties: {
        since: { type: 'string', format: 'date-time', description: 'Only records at or after this ISO 8601 time' },
        until: { type: 'string', format: 'date-time', description: 'Only records at or before this ISO 8601 time' },
        user: { type: 'string', maxLength: 254, description: 'Email address or user id' },
        kind: { type: 'string', maxLength: 64 },
        tool: { type: 'string', maxLength: 128 },
        outcome: { type: 'string', maxLength: 64 },
        limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 50 },
      },
      additionalProperties: false,
    },
    outputSchema: {
      type: 'object',
      properties: { records: { type: 'array', items: { type: 'object' } }, count: { type: 'integer' } },
      required: ['records', 'count'],
    },
    annotations: { readOnlyHint: true, openWorldHint: false },
    tier: 'admin',
    async handler(args) {
      const time = (v: string | undefined, field: string) => {
        if (v === undefined) return undefined
        const t = Date.parse(v)
        if (Number.isNaN(t)) throw new ToolError(`"${field}" is not an ISO 8601 time such as 2026-01-31T12:00:00Z`)
        return t
      }
      const q: AuditQuery = { limit: args.limit ?? 50, since: time(args.since, 'since'), until: time(args.until, 'until'), kind: args.kind, tool: args.tool, outcome: args.outcome }
      if (args.user !== undefined) {
        if (args.user.includes('@')) q.email = normaliseEmail(args.user)
        else q.userId = args.user
      }
      const records = (await audit.query(q)).map((r) => ({ ...r, at: new Date(r.at).toISOString() }))
      const structuredContent = { records, count: records.length }
      return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent }
    },
  })
}
