/**
 * @module core/methods/prompts
 * `prompts/list` and `prompts/get`. Unknown prompts and missing required arguments are `-32602`.
 */
import { clip, invalidParams } from '../errors.ts'
import type { Params } from '../jsonrpc.ts'
import { promptDescriptor } from '../registry.ts'
import { requireString, type Method } from './method.ts'

export const listPrompts: Method = async (params, _call, deps) => {
  const page = deps.paginator.page('prompts', deps.registry.prompts(), params.cursor)
  const result: Params = { prompts: page.items.map(promptDescriptor) }
  if (page.nextCursor) result.nextCursor = page.nextCursor
  return result
}

export const getPrompt: Method = async (params, call, deps) => {
  const name = requireString(params, 'name', 'prompts/get')
  const prompt = deps.registry.getPrompt(name)
  if (!prompt) throw invalidParams(`Unknown prompt: ${clip(name)}`, { name: clip(name) })
  const raw = params.arguments ?? {}
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw invalidParams('prompts/get: "arguments" must be an object of strings')
  const args: Record<string, string> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (typeof v !== 'string') throw invalidParams(`prompts/get: argument "${clip(k)}" must be a string`)
    args[k] = v
  }
  const missing = (prompt.arguments ?? []).filter((a) => a.required && args[a.name] === undefined).map((a) => a.name)
  if (missing.length) throw invalidParams(`Prompt ${name} is missing required arguments: ${missing.join(', ')}`, { missing })
  const result = await call.settle(prompt.get(args, call))
  return result as unknown as Params
}
