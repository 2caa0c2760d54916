/**
 * @module transports/mcp-headers
 * The request metadata headers of Streamable HTTP 2026-07-28 (SEP-2243): `MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name` and the `Mcp-Param-*` headers a tool asks for with `x-mcp-header`.
 * Intermediaries route on them, so a server that executes the body MUST refuse a request whose
 * headers are missing or say something else (-32020, HTTP 400): otherwise a gateway could be
 * shown one tool while the server runs another. 2025-era requests are never checked here.
 */
import type { RequestEnvelope } from '../core/envelope.ts'
import type { JsonRpcNotification, JsonRpcRequest, Params } from '../core/jsonrpc.ts'
import type { RegisteredTool } from '../core/registry.ts'

/** Which body field `Mcp-Name` mirrors, per method. */
const NAME_FIELD: Readonly<Record<string, 'name' | 'uri'>> = { 'tools/call': 'name', 'prompts/get': 'name', 'resources/read': 'uri' }
const SENTINEL = /^=\?base64\?(.*)\?=$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
/** RFC 9110 field values: visible ASCII, space and tab. Anything else must come Base64-encoded. */
const FIELD_VALUE = /^[\x20-\x7e\t]*$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

/**
 * A header value as the client meant it: `=?base64?…?=` decoded (UTF-8), anything else literal.
 * `undefined` when the value cannot be what a client sent (bad characters, bad Base64).
 */
export function decodeHeaderValue(raw: string): string | undefined {
  if (!FIELD_VALUE.test(raw)) return undefined
  const m = SENTINEL.exec(raw)
  if (!m) return raw
  const b64 = m[1]!
  if (!BASE64.test(b64)) return undefined
  try {
    return utf8.decode(Buffer.from(b64, 'base64'))
  } catch {
    return undefined
  }
}

/**
 * What is wrong with the protocol version header of a 2026-07-28 message, or undefined: it is
 * required, and must name exactly the version in the body's `_meta`.
 */
export function versionHeaderProblem(headers: Headers, envelope: RequestEnvelope): string | undefined {
  const version = headers.get('mcp-protocol-version')
  if (version === null)
    return `Header mismatch: the MCP-Protocol-Version header is required; set it to the _meta protocol version, "${envelope.protocolVersion}"`
  if (version !== envelope.protocolVersion)
    return `Header mismatch: MCP-Protocol-Version says "${version}" but _meta["io.modelcontextprotocol/protocolVersion"] says "${envelope.protocolVersion}"; send the same version in both`
  return undefined
}

/**
 * What is wrong with the routing headers of a 2026-07-28 message, or undefined: `Mcp-Method`
 * must name the method (required for requests), and `Mcp-Name` the tool, prompt or resource the
 * body names (required for tools/call, prompts/get and resources/read).
 */
export function routingHeaderProblem(headers: Headers, message: JsonRpcRequest | JsonRpcNotification): string | undefined {
  const isRequest = 'id' in message
  const method = headers.get('mcp-method')
  if (method === null) {
    // The 2026-07-28 revision defines no header rules for notification POSTs.
    if (isRequest) return `Header mismatch: the Mcp-Method header is required; set it to the request's method, "${message.method}"`
  } else if (method !== message.method) {
    return `Header mismatch: Mcp-Method says "${method}" but the body's method is "${message.method}" (values are case-sensitive)`
  }
  const field = isRequest ? NAME_FIELD[message.method] : undefined
  const value = field ? message.params?.[field] : undefined
  if (typeof value !== 'string') return undefined
  const raw = headers.get('mcp-name')
  if (raw === null) return `Header mismatch: the Mcp-Name header is required for ${message.method}; set it to params.${field}, "${value}" (Base64-encoded as =?base64?…?= if it is not plain ASCII)`
  const name = decodeHeaderValue(raw)
  if (name === undefined) return `Header mismatch: Mcp-Name is not a valid header value; encode values outside visible ASCII as =?base64?<Base64 of UTF-8>?=`
  if (name !== value) return `Header mismatch: Mcp-Name says "${name}" but params.${field} is "${value}"`
  return undefined
}

/** A tool argument mirrored into a header: `Mcp-Param-{header}` carries the value at `path`. */
interface ParamHeader {
  header: string
  path: string[]
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const declarations = new WeakMap<RegisteredTool, ParamHeader[]>()

/**
 * The `x-mcp-header` declarations of a tool's input schema, reachable from the root through
 * `properties` only (the spec ignores any other placement), on string, integer or boolean
 * properties, with a valid and case-insensitively unique header name. Computed once per tool.
 */
export function paramHeaders(tool: RegisteredTool): ParamHeader[] {
  let found = declarations.get(tool)
  if (found) return found
  found = []
  const seen = new Set<string>()
  const walk = (schema: unknown, path: string[]) => {
    const props = (schema as { properties?: unknown } | undefined)?.properties
    if (typeof props !== 'object' || props === null) return
    for (const [name, sub] of Object.entries(props as Record<string, unknown>)) {
      if (typeof sub !== 'object' || sub === null) continue
      const s = sub as Record<string, unknown>
      const header = s['x-mcp-header']
      if (typeof header === 'string' && TOKEN.test(header) && ['string', 'integer', 'boolean'].includes(s.type as string) && !seen.has(header.toLowerCase())) {
        seen.add(header.toLowerCase())
        found!.push({ header, path: [...path, name] })
      }
      walk(s, [...path, name])
    }
  }
  walk(tool.definition.inputSchema, [])
  declarations.set(tool, found)
  return found
}

/**
 * What is wrong with a tool call's `Mcp-Param-*` headers, or undefined: every declared argument
 * the body carries (not null) needs its header, equal after decoding (integers compared as numbers).
 */
export function paramHeaderProblem(headers: Headers, tool: RegisteredTool, args: unknown): string | undefined {
  for (const { header, path } of paramHeaders(tool)) {
    let value: unknown = args
    for (const key of path) value = typeof value === 'object' && value !== null ? (value as Params)[key] : undefined
    if (value === undefined || value === null) continue
    const raw = headers.get(`mcp-param-${header}`)
    const where = `arguments.${path.join('.')}`
    if (raw === null) return `Header mismatch: the Mcp-Param-${header} header is required: tool "${tool.definition.name}" mirrors ${where} into it`
    const decoded = decodeHeaderValue(raw)
    if (decoded === undefined) return `Header mismatch: Mcp-Param-${header} is not a valid header value; encode values outside visible ASCII as =?base64?<Base64 of UTF-8>?=`
    const same = typeof value === 'number' ? decoded.trim() !== '' && Number(decoded) === value : decoded === String(value)
    if (!same) return `Header mismatch: Mcp-Param-${header} says "${decoded}" but ${where} is ${JSON.stringify(value)}`
  }
  return undefined
}
