/**
 * @module core/topics
 * Every bus topic, with its payload and who repairs a lost event (the bus is at most once).
 */
import { topic } from './bus.ts'
import type { JsonRpcMessage, JsonRpcResponse, RequestId } from './jsonrpc.ts'

/** `notifications/cancelled` arrived on another instance than the one running the request. Lost: the request runs to its end. */
export const CANCEL = topic<{ sessionId: string; requestId: RequestId }>('cancel')

/**
 * A session ended (DELETE, closed connection, eviction): every instance cancels what it runs for
 * it and fails what it waits for. Lost: the calls finish and the waits time out by themselves.
 */
export const SESSION_ENDED = topic<{ sessionId: string }>('session-ended')

/**
 * To every live session and every `subscriptions/listen` stream (2026-07-28), on every instance
 * (list_changed). Lost: the client misses one change notice.
 */
export const BROADCAST = topic<JsonRpcMessage>('broadcast')

/**
 * A resource changed (`ctx.resourceUpdated`): every instance tells the 2026-07-28
 * `subscriptions/listen` streams it holds that asked for the URI. Sessions of the 2025 era are
 * told through their stream logs instead (`SessionStore.subscribers`). Lost: those listeners miss
 * one update notice.
 */
export const RESOURCE_UPDATED = topic<{ uri: string }>('resource-updated')

/** Auth sessions revoked (logout): streams and sockets they opened close. Lost: the periodic sweep closes them. */
export const AUTH_REVOKED = topic<{ authSessionId: string }>('auth-revoked')

/**
 * The client answered a server request of `instanceId` on another instance. Lost: the reply is also
 * kept in the session store until taken, and the waiting instance sweeps for it after a reconnect.
 */
export const instanceInbox = (instanceId: string) => topic<{ sessionId: string; response: JsonRpcResponse }>(`instance:${instanceId}`)
