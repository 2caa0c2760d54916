/**
 * @module core/types
 * The MCP shapes the core reads and writes (2025-11-25 schema), kept minimal and structural.
 */
export type JsonSchema = Record<string, unknown>

export interface Icon {
  src: string
  mimeType?: string
  sizes?: string[]
  theme?: 'light' | 'dark'
}

export interface Implementation {
  name: string
  version: string
  title?: string
  description?: string
  websiteUrl?: string
  icons?: Icon[]
}

export interface Annotations {
  audience?: ('user' | 'assistant')[]
  priority?: number
  lastModified?: string
}

export type ResourceContents =
  | { uri: string; mimeType?: string; text: string; _meta?: Record<string, unknown> }
  | { uri: string; mimeType?: string; blob: string; _meta?: Record<string, unknown> }

export type ContentBlock =
  | { type: 'text'; text: string; annotations?: Annotations; _meta?: Record<string, unknown> }
  | { type: 'image'; data: string; mimeType: string; annotations?: Annotations }
  | { type: 'audio'; data: string; mimeType: string; annotations?: Annotations }
  | {
      type: 'resource_link'
      uri: string
      name: string
      title?: string
      description?: string
      mimeType?: string
      annotations?: Annotations
    }
  | { type: 'resource'; resource: ResourceContents; annotations?: Annotations }

export interface CallToolResult {
  content: ContentBlock[]
  structuredContent?: Record<string, unknown>
  isError?: boolean
  _meta?: Record<string, unknown>
}

export interface ToolAnnotations {
  title?: string
  readOnlyHint?: boolean
  destructiveHint?: boolean
  idempotentHint?: boolean
  openWorldHint?: boolean
}

export interface PromptMessage {
  role: 'user' | 'assistant'
  content: ContentBlock
}

export interface GetPromptResult {
  description?: string
  messages: PromptMessage[]
}

export const LOG_LEVELS = ['debug', 'info', 'notice', 'warning', 'error', 'critical', 'alert', 'emergency'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export function isLogLevel(v: unknown): v is LogLevel {
  return typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v)
}

/** The client capabilities the core acts on; anything else is kept verbatim. */
export interface ClientCapabilities {
  sampling?: { tools?: object; context?: object }
  elicitation?: { form?: object; url?: object }
  roots?: { listChanged?: boolean }
  [key: string]: unknown
}

/** Who is calling. The transports fill it in from authentication; `anonymous` when auth is off. */
export interface Principal {
  id: string
  tier: Tier
  email?: string
  /** Server-side session record backing a bearer token, when there is one. */
  authSessionId?: string
  /** OAuth access tokens only: the scopes granted, the client they were issued to, and the resource (token `aud`). */
  scopes?: readonly string[]
  clientId?: string
  resource?: string
}
export type Tier = 'public' | 'user' | 'admin'

export type TransportKind = 'streamable-http' | 'sse' | 'websocket' | 'rest'
