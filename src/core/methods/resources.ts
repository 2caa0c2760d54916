/**
 * @module core/methods/resources
 * `resources/list`, `resources/templates/list`, `resources/read`, `resources/subscribe` and
 * `resources/unsubscribe`. An unknown URI is `-32002` with the URI in `data` (2025 era; 2026-07-28
 * requests get -32602 with the same `data`, see `modern-requests.ts`).
 */
import { ErrorCode, McpError, clip, invalidParams } from '../errors.ts'
import type { Params } from '../jsonrpc.ts'
import { resourceDescriptor, templateDescriptor } from '../registry.ts'
import type { ResourceContents } from '../types.ts'
import { requireString, type Method, type MethodDeps } from './method.ts'

const notFound = (uri: string) => new McpError(ErrorCode.ResourceNotFound, `Resource not found: ${clip(uri)}`, { uri: clip(uri) })

export const listResources: Method = async (params, call, deps) => {
  const listed: Record<string, unknown>[] = deps.registry.resources().map(resourceDescriptor)
  for (const t of deps.registry.templates()) if (t.definition.list) listed.push(...(await t.definition.list(call)).map((r) => ({ ...r })))
  const page = deps.paginator.page('resources', listed, params.cursor)
  const result: Params = { resources: page.items }
  if (page.nextCursor) result.nextCursor = page.nextCursor
  return result
}

export const listResourceTemplates: Method = async (params, _call, deps) => {
  const all = deps.registry.templates().map((t) => t.definition)
  const page = deps.paginator.page('templates', all, params.cursor)
  const result: Params = { resourceTemplates: page.items.map(templateDescriptor) }
  if (page.nextCursor) result.nextCursor = page.nextCursor
  return result
}

function exists(uri: string, deps: MethodDeps): boolean {
  return deps.registry.getResource(uri) !== undefined || deps.registry.matchTemplate(uri) !== undefined
}

export const readResource: Method = async (params, call, deps) => {
  const uri = requireString(params, 'uri', 'resources/read')
  let contents: ResourceContents[]
  const direct = deps.registry.getResource(uri)
  if (direct) contents = await call.settle(direct.read(uri, call))
  else {
    const hit = deps.registry.matchTemplate(uri)
    if (!hit) throw notFound(uri)
    contents = await call.settle(hit.template.definition.read(uri, hit.vars, call))
  }
  // An empty `contents` is not a valid answer: the resource exists but had nothing to say.
  if (!Array.isArray(contents) || contents.length === 0) throw notFound(uri)
  return { contents }
}

function sessionFor(method: string, call: Parameters<Method>[1]) {
  if (!call.session) throw invalidParams(`${method} needs a session: initialize first`)
  return call.session
}

export const subscribe: Method = async (params, call, deps) => {
  const uri = requireString(params, 'uri', 'resources/subscribe')
  const session = sessionFor('resources/subscribe', call)
  if (!exists(uri, deps)) throw notFound(uri)
  await deps.sessions.addSubscription(session.id, uri)
  return {}
}

export const unsubscribe: Method = async (params, call, deps) => {
  const uri = requireString(params, 'uri', 'resources/unsubscribe')
  const session = sessionFor('resources/unsubscribe', call)
  await deps.sessions.removeSubscription(session.id, uri)
  return {}
}
