/**
 * @module core/methods/table
 * Every MCP method the core dispatches to an implementation, in both protocol eras (each era adds
 * or withholds its own: `initialize`, `ping` and `logging/setLevel` are 2025 only, and handled by
 * the server itself; `server/discover` is 2026-07-28 only).
 */
import { complete } from './completion.ts'
import type { Method } from './method.ts'
import { getPrompt, listPrompts } from './prompts.ts'
import { listResourceTemplates, listResources, readResource, subscribe, unsubscribe } from './resources.ts'
import { callTool, listTools } from './tools.ts'

// A Map, not an object literal: a method named "constructor" must not find Object.prototype.
export const METHODS: ReadonlyMap<string, Method> = new Map(Object.entries({
  'tools/list': listTools,
  'tools/call': callTool,
  'resources/list': listResources,
  'resources/templates/list': listResourceTemplates,
  'resources/read': readResource,
  'resources/subscribe': subscribe,
  'resources/unsubscribe': unsubscribe,
  'prompts/list': listPrompts,
  'prompts/get': getPrompt,
  'completion/complete': complete,
}))
