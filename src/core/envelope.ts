/**
 * @module core/envelope
 * The per-request envelope of MCP 2026-07-28: what a request says about its client in
 * `params._meta` (protocol version, capabilities, client info, log level), since there is no
 * `initialize` and no session to remember it. Also the reserved `_meta` keys the server writes.
 */
import type { Params } from './jsonrpc.ts'
import { isLogLevel, type ClientCapabilities, type Implementation, type LogLevel } from './types.ts'

/** The reserved `_meta` keys (2026-07-28 `basic/index`): every one lives under this prefix. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const

/** What one 2026-07-28 request declares about its client. */
export interface RequestEnvelope {
  protocolVersion: string
  clientCapabilities: ClientCapabilities
  clientInfo?: Implementation
  /** Absent: the request gets no `notifications/message` at all. */
  logLevel?: LogLevel
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const metaOf = (params: Params | undefined) => (isObject(params?._meta) ? params._meta : undefined)

/** Whether a message claims the per-request era in its body (a protocol version in `_meta`). */
export function claimsEnvelope(params: Params | undefined): boolean {
  const meta = metaOf(params)
  return meta !== undefined && meta[META.protocolVersion] !== undefined
}

/**
 * Read the envelope of a 2026-07-28 request, or say what is wrong with it (the caller answers
 * -32602, HTTP 400). `clientInfo` is optional (a SHOULD since spec PR #3002), but malformed when
 * present; an unknown `logLevel` is malformed too.
 */
export function readEnvelope(params: Params | undefined): RequestEnvelope | { problem: string } {
  const meta = metaOf(params)
  if (!meta)
    return { problem: `Invalid params: a 2026-07-28 request needs "params._meta" with "${META.protocolVersion}" and "${META.clientCapabilities}"` }
  const protocolVersion = meta[META.protocolVersion]
  if (typeof protocolVersion !== 'string' || protocolVersion === '')
    return { problem: `Invalid params: "_meta.${META.protocolVersion}" must be the protocol version string, e.g. "2026-07-28"` }
  const clientCapabilities = meta[META.clientCapabilities]
  if (!isObject(clientCapabilities))
    return { problem: `Invalid params: "_meta.${META.clientCapabilities}" must be an object (use {} when the client declares none)` }
  const envelope: RequestEnvelope = { protocolVersion, clientCapabilities }
  const clientInfo = meta[META.clientInfo]
  if (clientInfo !== undefined) {
    if (!isObject(clientInfo) || typeof clientInfo.name !== 'string' || typeof clientInfo.version !== 'string')
      return { problem: `Invalid params: "_meta.${META.clientInfo}" must be an object with string "name" and "version"` }
    envelope.clientInfo = clientInfo as unknown as Implementation
  }
  const logLevel = meta[META.logLevel]
  if (logLevel !== undefined) {
    if (!isLogLevel(logLevel))
      return { problem: `Invalid params: "_meta.${META.logLevel}" must be one of debug, info, notice, warning, error, critical, alert, emergency` }
    envelope.logLevel = logLevel
  }
  return envelope
}
