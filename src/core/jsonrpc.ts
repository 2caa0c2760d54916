/**
 * @module core/jsonrpc
 * JSON-RPC 2.0 message shapes and the one classifier every transport runs incoming bodies through.
 * Id `0` is a real id: every check here is `!== undefined`, never truthiness.
 */
import { ErrorCode, type JsonRpcErrorObject } from './errors.ts'

export type RequestId = string | number
export type Params = Record<string, unknown>

export interface JsonRpcRequest {
  jsonrpc: '2.0'
  id: RequestId
  method: string
  params?: Params
}
export interface JsonRpcNotification {
  jsonrpc: '2.0'
  method: string
  params?: Params
}
export interface JsonRpcSuccess {
  jsonrpc: '2.0'
  id: RequestId
  result: Params
}
export type { JsonRpcErrorObject }
export interface JsonRpcFailure {
  jsonrpc: '2.0'
  /** `null` only when the request id could not be read (parse errors); never in a 200 body. */
  id: RequestId | null
  error: JsonRpcErrorObject
}
export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse

/** What one element of an incoming body turned out to be. */
export type Classified =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse }
  | { kind: 'invalid'; id: RequestId | null; error: JsonRpcErrorObject }

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

const isId = (v: unknown): v is RequestId =>
  typeof v === 'string' || (typeof v === 'number' && Number.isInteger(v))

function invalid(id: RequestId | null, message: string): Classified {
  return { kind: 'invalid', id, error: { code: ErrorCode.InvalidRequest, message } }
}

/** Classify one decoded JSON value as a JSON-RPC 2.0 message, or say precisely why it is not one. */
export function classify(value: unknown): Classified {
  if (!isObject(value)) return invalid(null, 'Invalid Request: a JSON-RPC message must be a JSON object')
  const id = isId(value.id) ? value.id : null
  if (value.jsonrpc !== '2.0') return invalid(id, 'Invalid Request: "jsonrpc" must be the string "2.0"')
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method === '')
      return invalid(id, 'Invalid Request: "method" must be a non-empty string')
    if (value.params !== undefined && !isObject(value.params))
      return invalid(id, 'Invalid Request: "params" must be an object when present')
    if (value.id === undefined) return { kind: 'notification', message: value as unknown as JsonRpcNotification }
    if (!isId(value.id))
      return invalid(null, 'Invalid Request: "id" must be a string or an integer (null is not allowed)')
    return { kind: 'request', message: value as unknown as JsonRpcRequest }
  }
  if ('result' in value || 'error' in value) {
    if (!isId(value.id) && value.id !== null) return invalid(null, 'Invalid Request: response "id" must be a string or an integer')
    if ('result' in value && 'error' in value) return invalid(id, 'Invalid Request: a response has either "result" or "error", not both')
    if ('result' in value && !isObject(value.result)) return invalid(id, 'Invalid Request: "result" must be an object')
    if ('error' in value) {
      const e = value.error
      if (!isObject(e) || typeof e.code !== 'number' || typeof e.message !== 'string')
        return invalid(id, 'Invalid Request: "error" must be an object with a numeric "code" and a string "message"')
    }
    return { kind: 'response', message: value as unknown as JsonRpcResponse }
  }
  return invalid(id, 'Invalid Request: a message needs "method" (request/notification) or "result"/"error" (response)')
}

export function success(id: RequestId, result: Params): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result }
}

export function failure(id: RequestId | null, error: JsonRpcErrorObject): JsonRpcFailure {
  return { jsonrpc: '2.0', id, error }
}

export function notification(method: string, params?: Params): JsonRpcNotification {
  return params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params }
}
