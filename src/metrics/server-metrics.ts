/**
 * @module metrics/server-metrics
 * What `/metrics` reports: HTTP requests and their latency per transport and route, requests in
 * flight, active sessions and streams per transport (read at scrape time, so they cost nothing
 * until scraped), tool calls by tool and outcome (as a `ToolCallObserver`, like the audit log),
 * and auth failures (from the audit records). Label values come only from bounded sets: route
 * patterns, a fixed method list, status codes, registered tool names and audit kinds.
 */
import type { ToolCallEvent, ToolCallObserver } from '../core/ports.ts'
import type { TransportKind } from '../core/types.ts'
import { Counter, Gauge, Histogram, MetricRegistry, observe, type CounterSeries, type HistogramSeries } from '../lib/prometheus.ts'
import type { AuditRecord } from '../auth/stores.ts'

/** Seconds; from a cached JSON reply (sub-millisecond) to a slow tool. */
const LATENCY_BUCKETS_S = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS'] as const
/** Any other method shares one label value, so a client cannot mint new series. */
const OTHER_METHOD = METHODS.length
const TRANSPORTS: readonly TransportKind[] = ['streamable-http', 'sse', 'websocket', 'rest']
/** The tool label of calls naming no registered tool (tool names cannot contain parentheses). */
export const UNKNOWN_TOOL = '(unknown)'
/** The route label of a request no route matched (a 404). */
export const UNMATCHED_ROUTE = 'unmatched'

/** The series of one route, found once per request by one Map lookup. */
interface RouteSeries {
  transport: string
  /** By `methodIndex * 1000 + status`: a number key, so the lookup allocates nothing. */
  readonly requests: Map<number, CounterSeries>
  readonly durations: (HistogramSeries | undefined)[]
}

export interface ServerMetricsOptions {
  version: string
  /** Tells instances sharing a store apart (the id in server request ids and heartbeats). */
  instanceId: string
  /** Which transport a route pattern belongs to; anything else is `rest`. */
  transportOf: (route: string) => TransportKind | undefined
  /** Live sessions per transport on this instance, read at scrape time. */
  sessions: () => Partial<Record<TransportKind, number>>
  /** Open streams per transport (SSE responses, WebSockets) on this instance, read at scrape time. */
  streams: () => Partial<Record<TransportKind, number>>
  /** True once shutdown began. */
  draining: () => boolean
}

export class ServerMetrics implements ToolCallObserver {
  readonly registry = new MetricRegistry()
  readonly #o: ServerMetricsOptions
  readonly #routes = new Map<string, RouteSeries>()
  readonly #requests: Counter
  readonly #durations: Histogram
  readonly #toolCalls: Counter
  readonly #toolDurations: Histogram
  readonly #authFailures: Counter
  readonly #sessionsEvicted: Counter
  #inFlight = 0
  readonly #toolSeries = new Map<string, { duration: HistogramSeries; calls: Map<string, CounterSeries> }>()

  constructor(opts: ServerMetricsOptions) {
    this.#o = opts
    const r = this.registry
    this.#requests = r.register(new Counter('mcprag_http_requests', 'HTTP requests answered, by transport, route pattern, method and status', ['transport', 'route', 'method', 'status']))
    this.#durations = r.register(
      new Histogram('mcprag_http_request_duration_seconds', 'Time to the response headers (for a stream: until it opened), by transport, route pattern and method', ['transport', 'route', 'method'], LATENCY_BUCKETS_S),
    )
    const inFlight = r.register(new Gauge('mcprag_http_requests_in_flight', 'HTTP requests received and not yet answered'))
    const sessions = r.register(new Gauge('mcprag_sessions_active', 'Live MCP sessions on this instance, by transport', ['transport']))
    const streams = r.register(new Gauge('mcprag_streams_active', 'Open SSE streams and WebSockets on this instance, by transport', ['transport']))
    this.#toolCalls = r.register(new Counter('mcprag_tool_calls', 'Tool calls by tool, outcome and transport', ['tool', 'outcome', 'transport']))
    this.#toolDurations = r.register(new Histogram('mcprag_tool_call_duration_seconds', 'Tool call latency by tool', ['tool'], LATENCY_BUCKETS_S))
    this.#authFailures = r.register(new Counter('mcprag_auth_failures', 'Refused credentials and auth abuse (audit kinds: token_rejected, login_failed, mfa_failed, rate_limited, …)', ['reason']))
    this.#sessionsEvicted = r.register(new Counter('mcprag_sessions_evicted', 'Sessions ended to make room for a new one of the same user or client address (MCPRAG_MAX_SESSIONS_PER_USER, _PER_ADDRESS)'))
    const draining = r.register(new Gauge('mcprag_draining', '1 once shutdown began (readiness answers 503), else 0'))
    r.register(new Gauge('mcprag_build_info', 'Always 1; the version and this process\'s instance id (random per start) are labels', ['version', 'instance'])).with(opts.version, opts.instanceId).value = 1

    r.onCollect(() => {
      inFlight.with().value = this.#inFlight
      draining.with().value = this.#o.draining() ? 1 : 0
      const s = this.#o.sessions()
      const o = this.#o.streams()
      for (const t of TRANSPORTS) {
        // REST calls have no session and no stream: leave that series out.
        if (t === 'rest') continue
        sessions.with(t).value = s[t] ?? 0
        streams.with(t).value = o[t] ?? 0
      }
    })
  }

  get requestsInFlight(): number {
    return this.#inFlight
  }

  /** A request arrived; returns its start time for `requestFinished`. */
  requestStarted(): number {
    this.#inFlight++
    return performance.now()
  }

  /** A request was answered. `route` is the matched route pattern, or undefined for a 404. */
  requestFinished(route: string | undefined, method: string, status: number, startedAt: number): void {
    this.#inFlight--
    const name = route ?? UNMATCHED_ROUTE
    let series = this.#routes.get(name)
    if (!series) {
      series = { transport: (route && this.#o.transportOf(route)) || 'rest', requests: new Map(), durations: [] }
      this.#routes.set(name, series)
    }
    let m = METHODS.indexOf(method as (typeof METHODS)[number])
    if (m === -1) m = OTHER_METHOD
    const key = m * 1000 + status
    let counter = series.requests.get(key)
    if (!counter) {
      counter = this.#requests.with(series.transport, name, METHODS[m] ?? 'OTHER', String(status))
      series.requests.set(key, counter)
    }
    counter.value++
    let histogram = series.durations[m]
    if (!histogram) histogram = series.durations[m] = this.#durations.with(series.transport, name, METHODS[m] ?? 'OTHER')
    observe(histogram, (performance.now() - startedAt) / 1000)
  }

  onToolCall(e: ToolCallEvent): void {
    // A name no tool has is the client's choice: one shared label, never a series per name.
    const tool = e.outcome === 'unknown_tool' ? UNKNOWN_TOOL : e.tool
    // Series looked up through nested maps: this runs on every tool call, `with()` joins strings.
    let byTool = this.#toolSeries.get(tool)
    if (!byTool) this.#toolSeries.set(tool, (byTool = { duration: this.#toolDurations.with(tool), calls: new Map() }))
    const key = `${e.outcome}/${e.transport}`
    let calls = byTool.calls.get(key)
    if (!calls) byTool.calls.set(key, (calls = this.#toolCalls.with(tool, e.outcome, e.transport)))
    calls.value++
    observe(byTool.duration, e.latencyMs / 1000)
  }

  /** A new session pushed out `count` older ones (session limits). */
  sessionsEvicted(count: number): void {
    this.#sessionsEvicted.with().value += count
  }

  /** Feed every audit record here; refusals of auth events are counted by kind. */
  onAuditRecord(record: Pick<AuditRecord, 'kind' | 'outcome'>): void {
    if (record.kind !== 'tool_call' && record.outcome === 'denied') this.#authFailures.with(record.kind).value++
  }

  render(): string {
    return this.registry.render()
  }
}
