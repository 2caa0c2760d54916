/**
 * @module core/schema
 * JSON Schema validation for tool inputs and outputs. Schemas default to draft 2020-12 (the MCP
 * default dialect since 2025-11-25); draft-07 schemas that say so in `$schema` are accepted too.
 * Validators are compiled once, at registration, so a bad schema fails at boot, not mid-call.
 */
import Ajv2020 from 'ajv/dist/2020.js'
import draft7MetaSchema from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' }
import type { JsonSchema } from './types.ts'

export type Validator = (value: unknown) => string[] | undefined

const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false })
ajv.addMetaSchema(draft7MetaSchema)

/** Compile a schema; the validator returns readable problems (`"/path" must be …`) or undefined. */
export function compileSchema(schema: JsonSchema): Validator {
  const validate = ajv.compile(schema)
  return (value) => {
    if (validate(value)) return undefined
    return (validate.errors ?? []).map((e) => {
      const where = e.instancePath === '' ? 'arguments' : `"${e.instancePath.slice(1).replaceAll('/', '.')}"`
      if (e.keyword === 'required') return `missing required field "${String(e.params.missingProperty)}"`
      if (e.keyword === 'additionalProperties')
        return `unknown field "${String(e.params.additionalProperty)}" is not allowed`
      return `${where} ${e.message ?? 'is invalid'}`
    })
  }
}
