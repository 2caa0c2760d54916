/**
 * @module core/methods/method
 * The signature every MCP method implementation shares, and the server parts they may use.
 */
import type { Call } from '../call.ts'
import { invalidParams as invalid } from '../errors.ts'
import type { Paginator } from '../cursor.ts'
import type { Params } from '../jsonrpc.ts'
import type { ToolAccess, ToolCallObserver } from '../ports.ts'
import type { Registry } from '../registry.ts'
import type { SessionStore } from '../session-store.ts'

export interface MethodDeps {
  registry: Registry
  paginator: Paginator
  sessions: SessionStore
  access: ToolAccess
  observers: ToolCallObserver[]
  now(): number
}

/** Returns the result object, or undefined when the request was cancelled (no response is sent). */
export type Method = (params: Params, call: Call, deps: MethodDeps) => Promise<Params | undefined>

export function requireString(params: Params, key: string, method: string): string {
  const v = params[key]
  if (typeof v !== 'string' || v === '') throw invalid(`${method}: "${key}" must be a non-empty string`)
  return v
}
