/**
 * Raw MCP 2026-07-28 requests over HTTP, without an SDK: the `_meta` envelope, the Mcp-* headers
 * a conforming client sends, and a reader for both reply forms (JSON, or an SSE stream whose last
 * message is the response).
 */
import { post } from './http.ts'
import { readSseBody } from './sse-body.ts'

export const MODERN = '2026-07-28'

export interface ModernOptions {
  id?: string | number
  capabilities?: Record<string, unknown>
  /** Extra `_meta` keys (logLevel, progressToken), or replacements for the envelope's. */
  meta?: Record<string, unknown>
  /** Header overrides; a value of `null` leaves that header out. */
  headers?: Record<string, string | null>
}

/** What Mcp-Name mirrors for the methods that have one. */
function nameOf(method: string, params: Record<string, unknown>): string | undefined {
  const v = method === 'resources/read' ? params.uri : method === 'tools/call' || method === 'prompts/get' ? params.name : undefined
  return typeof v === 'string' ? v : undefined
}

/** A request's body and headers, as a conforming client builds them. */
export function modernRequest(method: string, params: Record<string, unknown> = {}, o: ModernOptions = {}) {
  const meta = {
    'io.modelcontextprotocol/protocolVersion': MODERN,
    'io.modelcontextprotocol/clientInfo': { name: 'raw-modern', version: '1.0.0' },
    'io.modelcontextprotocol/clientCapabilities': o.capabilities ?? {},
    ...o.meta,
  }
  const body = { jsonrpc: '2.0', id: o.id ?? 1, method, params: { ...params, _meta: meta } }
  const headers: Record<string, string> = { 'mcp-protocol-version': MODERN, 'mcp-method': method }
  const name = nameOf(method, params)
  if (name !== undefined) headers['mcp-name'] = name
  for (const [k, v] of Object.entries(o.headers ?? {})) {
    if (v === null) delete headers[k.toLowerCase()]
    else headers[k.toLowerCase()] = v
  }
  return { body, headers }
}

export interface ModernReply {
  status: number
  headers: Headers
  /** The JSON-RPC response (the JSON body, or the last message of the stream). */
  body: { jsonrpc?: string; id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string; data?: unknown } }
  /** The messages that came before the response on an SSE reply (none on JSON). */
  notifications: Record<string, unknown>[]
  sse: boolean
}

/** Read a reply in either form. */
export async function readReply(res: Response): Promise<ModernReply> {
  const sse = (res.headers.get('content-type') ?? '').startsWith('text/event-stream')
  if (!sse) {
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : {}, notifications: [], sse }
  }
  const messages: Record<string, unknown>[] = []
  await new Promise<void>((resolve) => {
    readSseBody(res, { onEvent: (e) => void (e.data.trim() && messages.push(JSON.parse(e.data))) }, resolve)
  })
  const body = (messages.pop() ?? {}) as ModernReply['body']
  return { status: res.status, headers: res.headers, body, notifications: messages, sse }
}

/** POST one 2026-07-28 request to `url` and read its reply. */
export async function modernCall(url: string, method: string, params: Record<string, unknown> = {}, o: ModernOptions & { auth?: Record<string, string> } = {}): Promise<ModernReply> {
  const { body, headers } = modernRequest(method, params, o)
  return readReply(await post(url, body, { ...o.auth, ...headers }))
}
