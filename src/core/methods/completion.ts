/**
 * @module core/methods/completion
 * `completion/complete` for prompt arguments and resource-template variables.
 */
import { clip, invalidParams } from '../errors.ts'
import type { Completer } from '../registry.ts'
import type { Method } from './method.ts'

const MAX_VALUES = 100

export const complete: Method = async (params, call, deps) => {
  const ref = params.ref as Record<string, unknown> | undefined
  const argument = params.argument as Record<string, unknown> | undefined
  if (!ref || typeof ref !== 'object') throw invalidParams('completion/complete: "ref" must be an object')
  if (!argument || typeof argument.name !== 'string' || typeof argument.value !== 'string')
    throw invalidParams('completion/complete: "argument" must be {name: string, value: string}')
  const context = params.context as { arguments?: Record<string, string> } | undefined
  const ctxArgs = context?.arguments && typeof context.arguments === 'object' ? context.arguments : {}

  let completer: Completer | undefined
  if (ref.type === 'ref/prompt') {
    if (typeof ref.name !== 'string') throw invalidParams('completion/complete: ref/prompt needs "name"')
    const prompt = deps.registry.getPrompt(ref.name)
    if (!prompt) throw invalidParams(`Unknown prompt: ${clip(ref.name)}`)
    completer = prompt.arguments?.find((a) => a.name === argument.name)?.complete
  } else if (ref.type === 'ref/resource') {
    if (typeof ref.uri !== 'string') throw invalidParams('completion/complete: ref/resource needs "uri"')
    const template = deps.registry.findTemplate(ref.uri)
    if (!template && !deps.registry.getResource(ref.uri)) throw invalidParams(`Unknown resource template: ${clip(ref.uri)}`)
    completer = template?.definition.complete?.[argument.name]
  } else {
    throw invalidParams('completion/complete: "ref.type" must be "ref/prompt" or "ref/resource"')
  }
  const all = completer ? await completer(argument.value, { arguments: ctxArgs, principal: call.principal }) : []
  const values = all.slice(0, MAX_VALUES)
  return { completion: { values, total: all.length, hasMore: all.length > values.length } }
}
