/**
 * @module http/tool-operations
 * One OpenAPI operation per registered tool, `POST /mcp/tool/{name}`, built from the registry
 * each time the document is served: registering a tool documents it, with no other change. The
 * request body is the tool's MCP input schema, the 200 body wraps its CallToolResult (with the
 * tool's output schema as `structuredContent`), and the operation is tagged with the tool's tier.
 */
import type { RegisteredTool } from '../core/registry.ts'
import type { JsonSchema, Tier } from '../core/types.ts'
import { toolErrorResponses } from './route-docs.ts'

type Json = Record<string, unknown>

/** The tag of each tier's tool operations, with what it means to call them. */
export const TIER_TAGS: Record<Tier, { name: string; description: string }> = {
  public: { name: 'Tools: public', description: 'Tools any signed-in user may call (tier public).' },
  user: { name: 'Tools: user', description: 'Tools for users of tier user or admin.' },
  admin: { name: 'Tools: admin', description: 'Tools for admins, who also need a TOTP verification on the calling session within MCPRAG_MFA_WINDOW_S (POST /auth/verify-mfa).' },
}

/** RFC 6901: `~` and `/` inside one reference token. */
const pointerToken = (s: string) => s.replaceAll('~', '~0').replaceAll('/', '~1')

/**
 * A copy of `schema` whose local references (`#/$defs/…`, `#`) point at the place the schema now
 * sits in the OpenAPI document: there, `#` means the document root, not the tool's schema. A
 * schema with its own `$id` is a resource of its own and keeps its references.
 */
export function rebaseRefs(schema: JsonSchema, at: string): JsonSchema {
  if (typeof schema.$id === 'string') return schema
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk)
    if (v === null || typeof v !== 'object') return v
    const out: Json = {}
    for (const [k, x] of Object.entries(v)) out[k] = k === '$ref' && typeof x === 'string' && x.startsWith('#') ? at + x.slice(1) : walk(x)
    return out
  }
  return walk(schema) as JsonSchema
}

function description(tool: RegisteredTool): string {
  const d = tool.definition
  const hints: string[] = []
  const a = d.annotations
  if (a?.readOnlyHint) hints.push('read-only')
  if (a?.destructiveHint) hints.push('destructive')
  if (a?.idempotentHint) hints.push('idempotent')
  if (a?.openWorldHint) hints.push('reaches outside systems')
  const parts = [
    d.description ?? '',
    `MCP tool \`${d.name}\`, tier **${tool.tier}**${tool.tier === 'admin' ? ' (needs a recent MFA verification on this session)' : ''}. The body is its arguments; an empty body means none.`,
  ]
  if (hints.length) parts.push(`Hints: ${hints.join(', ')}.`)
  return parts.filter(Boolean).join('\n\n')
}

function operation(tool: RegisteredTool, path: string, authRequired: boolean): Json {
  const d = tool.definition
  const input = tool.descriptor.inputSchema as JsonSchema
  const at = `#/paths/${pointerToken(path)}/post`
  const result: Json = { $ref: '#/components/schemas/CallToolResult' }
  const output = d.outputSchema
    ? {
        allOf: [
          result,
          { type: 'object', properties: { structuredContent: rebaseRefs(d.outputSchema, `${at}/responses/200/content/application~1json/schema/properties/result/allOf/1/properties/structuredContent`) } },
        ],
      }
    : result
  const required = Array.isArray(input.required) && input.required.length > 0
  return {
    operationId: `callTool_${d.name}`,
    summary: d.title ?? d.annotations?.title ?? d.name,
    description: description(tool),
    tags: [TIER_TAGS[tool.tier].name],
    security: authRequired ? [{ bearer: [] }] : [],
    'x-mcp-tool': d.name,
    'x-mcprag-tier': tool.tier,
    requestBody: {
      required,
      description: 'The tool arguments, checked against its MCP input schema',
      content: { 'application/json': { schema: rebaseRefs(input, `${at}/requestBody/content/application~1json/schema`) } },
    },
    responses: {
      200: {
        description: 'The tool ran',
        content: { 'application/json': { schema: { type: 'object', required: ['result'], properties: { result: output } } } },
      },
      ...toolErrorResponses(authRequired),
    },
  }
}

/** The `paths` entries of every registered tool, in registration order. */
export function toolOperations(tools: RegisteredTool[], opts: { authRequired: boolean }): Record<string, Json> {
  const paths: Record<string, Json> = {}
  for (const tool of tools) {
    const path = `/mcp/tool/${tool.definition.name}`
    paths[path] = { post: operation(tool, path, opts.authRequired) }
  }
  return paths
}
