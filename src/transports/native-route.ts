/**
 * @module transports/native-route
 * Routes mounted on Bun's own router (`Bun.serve({ routes })`, through Elysia's `serve.routes`)
 * rather than as Elysia handlers: the MCP hot paths. They bypass the framework's hooks, so they
 * count their own requests for /metrics and turn a thrown error into a 500 themselves.
 */
import { ErrorCode, STORE_RETRY_AFTER_S, StoreUnavailable } from '../core/errors.ts'
import { rpcErrorResponse } from './http-guard.ts'

/** Counts requests and their latency (metrics); native routes bypass the framework's hooks. */
export interface RequestMeter {
  requestStarted(): number
  requestFinished(route: string | undefined, method: string, status: number, startedAt: number): void
}

/** The part of Bun's server a route handler uses. */
export interface BunServerHandle {
  timeout(request: Request, seconds: number): void
}

export type NativeRoute = (request: Request, server: BunServerHandle) => Response | Promise<Response>

/** Wrap a handler so it is metered (when a meter is given) and never throws at Bun. */
export function meteredRoute(path: string, method: string, handle: NativeRoute, meter?: RequestMeter): NativeRoute {
  const fail = (err: unknown) => {
    // A shared store that does not answer is the server's trouble, and it passes: retry soon.
    if (err instanceof StoreUnavailable) return unavailable(err)
    console.error(`[${path}] ${method} failed:`, err)
    return rpcErrorResponse(500, ErrorCode.InternalError, 'Internal error')
  }
  if (!meter)
    return async (request, server) => {
      try {
        return await handle(request, server)
      } catch (err) {
        return fail(err)
      }
    }
  return async (request, server) => {
    const started = meter.requestStarted()
    let response: Response
    try {
      response = await handle(request, server)
    } catch (err) {
      response = fail(err)
    }
    meter.requestFinished(path, method, response.status, started)
    return response
  }
}

/** 503 with `Retry-After`: a shared store (Redis) is not answering. */
export function unavailable(err: StoreUnavailable): Response {
  return rpcErrorResponse(503, ErrorCode.InternalError, `Service Unavailable: ${err.message}; retry in ${STORE_RETRY_AFTER_S} s`, { 'retry-after': String(STORE_RETRY_AFTER_S) })
}
