/**
 * @module core/errors
 * Wire errors: `McpError` carries a numeric JSON-RPC code and is serialised as-is. `ToolError` is a
 * tool's business failure and becomes an `isError: true` result, never a JSON-RPC error (SEP-1303).
 */

/** The `error` member of a JSON-RPC failure. */
export interface JsonRpcErrorObject {
  code: number
  message: string
  data?: unknown
}

/** JSON-RPC and MCP error codes used on the wire. The only place these numbers appear. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  /** Transport-level rejections (bad headers, unknown session): the SDK's convention. */
  ConnectionClosed: -32000,
  SessionNotFound: -32001,
  RequestTimeout: -32001,
  ResourceNotFound: -32002,
  /** The caller is known but may not do this (tier too low, fresh MFA missing); `data` says why. */
  Forbidden: -32003,
  /** Too many calls; `data.retry_after_s` says when to try again. */
  RateLimited: -32029,
  UrlElicitationRequired: -32042,
  /** 2026-07-28: the Mcp-* / MCP-Protocol-Version headers are missing or disagree with the body. */
  HeaderMismatch: -32020,
  /** 2026-07-28: serving the request needs a client capability the request did not declare. */
  MissingRequiredClientCapability: -32021,
  /** 2026-07-28: the request names a protocol version this server does not serve. */
  UnsupportedProtocolVersion: -32022,
} as const

export class McpError extends Error {
  readonly code: number
  readonly data: unknown
  constructor(code: number, message: string, data?: unknown) {
    super(message)
    this.name = 'McpError'
    this.code = code
    this.data = data
  }

  toJson(): JsonRpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data }
  }
}

export const invalidParams = (message: string, data?: unknown) => new McpError(ErrorCode.InvalidParams, message, data)
export type ForbiddenReason = 'insufficient_tier' | 'mfa_required' | 'session_expired' | 'audit_unavailable' | 'insufficient_scope'
/**
 * A refused call: `data` carries the machine-readable reason and the tier the tool needs; for
 * `insufficient_scope` also every OAuth scope the call needs and the resource metadata document an
 * HTTP transport points its 403 challenge at, so the client can step up.
 */
export const forbidden = (message: string, data: { reason: ForbiddenReason; required_tier?: string; scope?: string; resource_metadata?: string }) =>
  new McpError(ErrorCode.Forbidden, message, data)
export const rateLimited = (message: string, retryAfterS: number) =>
  new McpError(ErrorCode.RateLimited, message, { retry_after_s: retryAfterS })
export const methodNotFound = (method: string) =>
  new McpError(ErrorCode.MethodNotFound, `Method not found: ${clip(method)}`)

/** Client input quoted in an error message is cut here: an answer never grows with what was sent. */
export const MAX_ECHO_CHARS = 128

/**
 * `text` as it may appear in an error message or audit detail: at most `max` characters, with an
 * ellipsis and the original length when cut. Any name a client chose (a method, tool, field or
 * URI) goes through this before it is echoed, so a 4 MB method name costs a 4 MB body once, not
 * a 4 MB reply (and a stored copy) too.
 */
export function clip(text: string, max = MAX_ECHO_CHARS): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length} characters)`
}

/**
 * A shared store (Redis) cannot answer now: it is down, or slower than the deadline of a request.
 * Retryable, never the caller's fault: HTTP answers it with 503 and `Retry-After`, MCP with an
 * error whose `data.retry_after_s` says when to try again.
 */
export class StoreUnavailable extends Error {
  constructor(message = 'A shared store is not answering') {
    super(message)
    this.name = 'StoreUnavailable'
  }
}

/** Seconds a client should wait before retrying after `StoreUnavailable`. */
export const STORE_RETRY_AFTER_S = 2

/** A 2026-07-28 request needs a capability its `_meta` did not declare (`data` names it, as an object). */
export const missingCapability = (message: string, requiredCapabilities: Record<string, unknown>) =>
  new McpError(ErrorCode.MissingRequiredClientCapability, message, { requiredCapabilities })

/** Thrown by a tool handler for a failure the model should see (becomes `isError: true`). */
export class ToolError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'ToolError'
  }
}
