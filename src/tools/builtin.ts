/**
 * @module tools/builtin
 * The tools every mcprag instance serves: at least one per tier (`echo` public, `whoami` user,
 * `audit_query` admin), so the tier matrix always has every column.
 */
import type { Registry } from '../core/registry.ts'
import { auditQueryTool, type AuditReader } from './audit-query.ts'
import { echoTool } from './echo.ts'
import { whoamiTool } from './whoami.ts'

export function registerBuiltinTools(registry: Registry, deps: { audit: AuditReader }): void {
  registry.tool(echoTool)
  registry.tool(whoamiTool)
  registry.tool(auditQueryTool(deps.audit))
}
