/**
 * @module core/schema
 * JSON Schema validation for tool inputs and outputs. Schemas default to draft 2020-12 (the MCP
 * default dialect since 2025-11-25); draft-07 schemas that say so in `$schema` are accepted too.
 * Validators are compiled once, at registration, so a bad schema fails at boot, not mid-call.
 *
 * The cost of a refusal is bounded by what the server chose, not by what the client sent: every
 * value is first checked by a validator that stops at the first problem. Only a small value (at
 * most `THOROUGH_MAX_NODES` JSON values) is checked again for all of its problems, so a form-like
 * client learns every wrong field at once while a body of 100 000 unknown keys costs one problem
 * (Ajv's `allErrors` on that body took seconds and built a 40 MB answer). At most `MAX_PROBLEMS`
 * are reported, and the field names in them are clipped.
 */
import Ajv2020, { type ErrorObject } from 'ajv/dist/2020.js'
import draft7MetaSchema from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' }
import { clip } from './errors.ts'
import type { JsonSchema } from './types.ts'

/** One way a value fails its schema: where (dotted path, '' for the whole value) and how. */
export interface ArgumentProblem {
  path: string
  message: string
}

export type Validator = (value: unknown) => ArgumentProblem[] | undefined

/** Problems reported for one value, at most. */
export const MAX_PROBLEMS = 10
/** Values with at most this many JSON values inside are checked for every problem. */
const THOROUGH_MAX_NODES = 256
/** A field name quoted in a problem is cut to this length. */
const MAX_FIELD_CHARS = 64

const ajv = (allErrors: boolean) => {
  const a = new Ajv2020({ strict: false, allErrors, validateFormats: false })
  a.addMetaSchema(draft7MetaSchema)
  return a
}
const firstProblem = ajv(false)
const everyProblem = ajv(true)

/** Compile a schema; the validator returns readable problems (`"a.b" must be …`) or undefined. */
export function compileSchema(schema: JsonSchema): Validator {
  const fast = firstProblem.compile(schema)
  const thorough = everyProblem.compile(schema)
  return (value) => {
    if (fast(value)) return undefined
    let errors = fast.errors
    if (fewerNodesThan(value, THOROUGH_MAX_NODES) && !thorough(value)) errors = thorough.errors
    return (errors ?? []).slice(0, MAX_PROBLEMS).map(problemOf)
  }
}

/** Whether `value` holds fewer than `limit` JSON values; stops counting at the limit. */
function fewerNodesThan(value: unknown, limit: number): boolean {
  let left = limit
  const walk = (v: unknown): boolean => {
    if (--left <= 0) return false
    if (v === null || typeof v !== 'object') return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) if (!walk(child)) return false
    return true
  }
  return walk(value)
}

/** A JSON Pointer (`/a/b~1c`) as a dotted path of clipped names (`a.b/c`). */
function pathOf(pointer: string, child?: unknown): string {
  const parts = pointer === '' ? [] : pointer.slice(1).split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'))
  if (child !== undefined) parts.push(String(child))
  return parts.map((p) => clip(p, MAX_FIELD_CHARS)).join('.')
}

function problemOf(e: ErrorObject): ArgumentProblem {
  if (e.keyword === 'required') {
    const path = pathOf(e.instancePath, e.params.missingProperty)
    return { path, message: `missing required field "${path}"` }
  }
  if (e.keyword === 'additionalProperties') {
    const path = pathOf(e.instancePath, e.params.additionalProperty)
    return { path, message: `unknown field "${path}" is not allowed` }
  }
  const path = pathOf(e.instancePath)
  return { path, message: `${path === '' ? 'arguments' : `"${path}"`} ${e.message ?? 'is invalid'}` }
}
