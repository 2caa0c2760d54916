/**
 * @module auth/audit
 * The audit log: every tool execution (as the core's `ToolCallObserver`) and every auth event,
 * written to the store and as one JSON line on stdout. Records carry who, what, the tiers, a
 * digest of the arguments (never the arguments), the outcome, latency and transport; never a
 * token, code or secret. Recording never throws and never delays the call it records.
 */
import { createHash } from 'node:crypto'
import type { ToolCallEvent, ToolCallObserver } from '../core/ports.ts'
import type { Tier } from '../core/types.ts'
import type { AuditQuery, AuditRecord, AuthStore } from '../store/auth-store.ts'

/** Arguments nested deeper than this are digested as a marker (and cannot blow the stack). */
const MAX_DIGEST_DEPTH = 32
const MAX_DETAIL_CHARS = 500

/** Canonical JSON (sorted keys), depth-capped, for digesting. */
function canonical(value: unknown, depth: number): string {
  if (depth > MAX_DIGEST_DEPTH) return '"…"'
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, depth + 1)).join(',')}]`
  const keys = Object.keys(value).sort()
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k], depth + 1)}`).join(',')}}`
}

export function argumentsDigest(args: unknown): string {
  return createHash('sha256').update(canonical(args, 0)).digest('hex')
}

export interface AuditLogOptions {
  store: AuthStore
  now: () => number
  /** Write each record as a JSON line here (stdout by default); undefined to disable. */
  writeLine?: (line: string) => void
  /** The tier of a registered tool, for tool-call records. */
  tierOf: (tool: string) => Tier | undefined
  /** Also told of every record (metrics count the refusals). Must not throw. */
  onRecord?: (record: AuditRecord) => void
}

export class AuditLog implements ToolCallObserver {
  readonly #o: AuditLogOptions

  constructor(opts: AuditLogOptions) {
    this.#o = opts
  }

  onToolCall(e: ToolCallEvent): void {
    this.record({
      kind: 'tool_call',
      outcome: e.outcome,
      userId: e.principal.id,
      email: e.principal.email,
      tier: e.principal.tier,
      tool: e.tool,
      toolTier: this.#o.tierOf(e.tool),
      transport: e.transport,
      argsDigest: argumentsDigest(e.arguments),
      latencyMs: Math.round(e.latencyMs * 100) / 100,
      detail: e.detail,
    })
  }

  /** Record an event now. Fire and forget: a failing store is reported on stderr. */
  record(event: Omit<AuditRecord, 'at' | 'id'>): void {
    const record: AuditRecord = { at: this.#o.now(), ...event }
    if (record.detail !== undefined && record.detail.length > MAX_DETAIL_CHARS) record.detail = `${record.detail.slice(0, MAX_DETAIL_CHARS)}…`
    for (const k of Object.keys(record) as (keyof AuditRecord)[]) if (record[k] === undefined) delete record[k]
    this.#o.onRecord?.(record)
    try {
      // JSON.stringify escapes CR/LF inside values, so one record is always one line.
      this.#o.writeLine?.(JSON.stringify({ audit: new Date(record.at).toISOString(), ...record }))
    } catch (err) {
      console.error('[audit] could not write the audit line:', err)
    }
    this.#o.store.appendAudit(record).catch((err) => console.error('[audit] could not store the audit record:', err))
  }

  query(q: AuditQuery): Promise<AuditRecord[]> {
    return this.#o.store.queryAudit(q)
  }
}
