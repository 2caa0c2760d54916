/**
 * @module transports/authenticate
 * The authentication hook every transport calls on every HTTP request and WebSocket upgrade,
 * before any session lookup. It returns the caller, or the response to send instead (401/403).
 */
import type { Principal } from '../core/types.ts'

/** May answer synchronously (no authentication), so the hot path awaits only when it must. */
export type Authenticate = (request: Request) => Principal | Response | Promise<Principal | Response>

/** The caller when authentication is off (`MCPRAG_AUTH=off`, loopback only). */
export const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', tier: 'admin' })

export const noAuthentication: Authenticate = () => ANONYMOUS
