/**
 * @module http/metrics-routes
 * `GET /metrics` (Prometheus text format) and the two request hooks that feed it: the start time
 * is noted when a request arrives, and its route, method, status and latency are recorded once it
 * is answered (for a stream: once its headers go out). Mount this before every other route.
 * With `token` set, scrapes need `Authorization: Bearer <token>`.
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { Elysia } from 'elysia'
import { PROMETHEUS_CONTENT_TYPE } from '../lib/prometheus.ts'
import type { ServerMetrics } from '../metrics/server-metrics.ts'
import { restError } from '../lib/respond.ts'
import { ROUTE_DOCS } from './route-docs.ts'

export interface MetricsRoutesOptions {
  metrics: ServerMetrics
  /** `MCPRAG_METRICS_TOKEN`; undefined leaves `/metrics` open. */
  token?: string
}

/** Where the start time rides on Elysia's per-request context (which flows from onRequest to onAfterResponse). */
const STARTED = Symbol('mcprag.requestStartedAt')

interface AnsweredContext {
  [STARTED]?: number
  request: Request
  route?: string
  code?: unknown
  set: { status?: number | string }
  responseValue?: unknown
  response?: unknown
}

/**
 * The status that went out: a returned Response's, a 404 for an unmatched path, 101 for an
 * accepted WebSocket upgrade (Bun answers it; the route returns nothing), else what `set` says.
 */
function statusOf(ctx: AnsweredContext): number {
  const value = ctx.responseValue ?? ctx.response
  if (value instanceof Response) return value.status
  if (ctx.code === 'NOT_FOUND') return 404
  if (value === undefined && ctx.code === undefined && ctx.request.headers.get('upgrade')?.toLowerCase() === 'websocket') return 101
  return typeof ctx.set.status === 'number' ? ctx.set.status : 200
}

const digest = (s: string) => createHash('sha256').update(s).digest()
const BEARER = /^Bearer +(\S+)$/i

export function metricsRoutes({ metrics, token }: MetricsRoutesOptions) {
  const expected = token === undefined ? undefined : digest(token)
  const authorized = (request: Request): boolean => {
    if (!expected) return true
    const given = BEARER.exec(request.headers.get('authorization')?.trim() ?? '')?.[1]
    // Digests have equal lengths, so the comparison time says nothing about the token.
    return given !== undefined && timingSafeEqual(digest(given), expected)
  }

  return new Elysia({ name: 'http:metrics' })
    .onRequest((ctx) => {
      ;(ctx as unknown as AnsweredContext)[STARTED] = metrics.requestStarted()
    })
    .onAfterResponse({ as: 'global' }, (ctx) => {
      const c = ctx as unknown as AnsweredContext
      const started = c[STARTED]
      if (started === undefined) return
      c[STARTED] = undefined
      metrics.requestFinished(c.route, c.request.method, statusOf(c), started)
    })
    .get(
      '/metrics',
      ({ request }) => {
        if (!authorized(request))
          return restError(401, 'invalid_token', 'Send Authorization: Bearer <MCPRAG_METRICS_TOKEN> to read the metrics', {}, { 'www-authenticate': 'Bearer realm="metrics"' })
        return new Response(metrics.render(), { headers: { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' } })
      },
      { detail: ROUTE_DOCS.metrics(token !== undefined) },
    )
}
