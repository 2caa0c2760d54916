/**
 * @module http/readiness-routes
 * `GET /ready`: readiness. 200 when every dependency answers; 503 when one fails or is too slow,
 * and from the moment shutdown begins (draining), so a load balancer stops routing new work here
 * while in-flight requests finish. Failures are logged here and reported only as `failed` or
 * `timeout`: the endpoint is unauthenticated and must not describe the infrastructure.
 */
import { Elysia } from 'elysia'
import { NO_STORE, json } from '../lib/respond.ts'
import { ROUTE_DOCS } from './route-docs.ts'

export interface ReadinessCheck {
  /** The key in the answer's `checks`, e.g. `auth_store`. */
  name: string
  /** Resolves when the dependency answers; rejects when it does not. */
  run(): Promise<unknown>
}

export interface ReadinessOptions {
  checks: ReadinessCheck[]
  isDraining(): boolean
  /** A check slower than this counts as failed. */
  timeoutMs: number
}

type Outcome = 'ok' | 'failed' | 'timeout'

async function outcomeOf(check: ReadinessCheck, timeoutMs: number): Promise<Outcome> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<Outcome>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)))
  const run = check.run().then(
    (): Outcome => 'ok',
    (err: unknown): Outcome => {
      // One line: probes repeat every few seconds through an outage.
      console.error(`[ready] ${check.name} check failed: ${err instanceof Error ? err.message : String(err)}`)
      return 'failed'
    },
  )
  try {
    return await Promise.race([run, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export function readinessRoutes(o: ReadinessOptions) {
  const ready = async () => {
    if (o.isDraining()) return json(503, { status: 'draining', checks: {} }, NO_STORE)
    const outcomes = await Promise.all(o.checks.map((c) => outcomeOf(c, o.timeoutMs)))
    const checks = Object.fromEntries(o.checks.map((c, i) => [c.name, outcomes[i]]))
    const ok = outcomes.every((x) => x === 'ok')
    // Shutdown may have begun while the checks ran.
    if (o.isDraining()) return json(503, { status: 'draining', checks }, NO_STORE)
    return json(ok ? 200 : 503, { status: ok ? 'ready' : 'not_ready', checks }, NO_STORE)
  }
  return new Elysia({ name: 'http:readiness' }).get('/ready', ready, { detail: ROUTE_DOCS.ready })
}
