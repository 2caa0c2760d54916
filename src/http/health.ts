/**
 * @module http/health
 * `GET /health`: liveness. Answers from memory, touching no dependency, so it stays cheap.
 */
import { Elysia } from 'elysia'
import { json } from '../lib/respond.ts'
import { ROUTE_DOCS } from './route-docs.ts'

export function healthRoutes(opts: { version: string; startedAt: number }) {
  return new Elysia({ name: 'http:health' }).get('/health', () => json(200, {
    status: 'ok',
    version: opts.version,
    uptime_s: Math.round((Date.now() - opts.startedAt) / 1000),
  }), { detail: ROUTE_DOCS.health })
}
