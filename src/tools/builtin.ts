/**
 * @module tools/builtin
 * The tools every mcprag instance serves.
 */
import type { Registry } from '../core/registry.ts'
import { echoTool } from './echo.ts'

export function registerBuiltinTools(registry: Registry): void {
  registry.tool(echoTool)
}
