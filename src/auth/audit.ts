/**
 * @module auth/audit
 * The audit log: every tool execution (as the core's `ToolCallObserver`) and every auth event,
 * written to the store and as one JSON line on stdout. Records carry who, what, the tiers, a
 * digest of the arguments (never the arguments), the outcome, latency and transport; never a
 * token, code or secret. Recording never throws and never delays the call it records.
 *
 * The request path only queues what happened (time, event): building the records (digests, tiers)
 * and writing them happens in batches, at most `AUDIT_FLUSH_MS` later, as one store transaction and
 * one stdout write per batch. `query` and `close` write what is queued first, so a query sees every
 * record made before it, and shutdown loses none. What a crash of the process can lose is the
 * records of its last `AUDIT_FLUSH_MS`.
 *
 * Refusals a client can repeat at will (a garbage bearer token, a 429, a probe with a foreign
 * session id, a forbidden Host or Origin, a name no tool has) go through `refusal`: the first of
 * each kind per user and client address in a window is written at once, the rest are counted and
 * written as one record when the window ends. So what unauthenticated traffic adds to the log is
 * bounded by the number of addresses, not of requests. Every one still reaches `onRecord` (metrics).
 */
import type { ToolCallEvent, ToolCallObserver } from '../core/ports.ts'
import type { Tier } from '../core/types.ts'
import type { AuditQuery, AuditRecord, AuditStore } from './stores.ts'

/** Arguments nested deeper than this are digested as a marker (and cannot blow the stack). */
const MAX_DIGEST_DEPTH = 32
const MAX_DETAIL_CHARS = 500
/** Queued records are written at most this long after they happen. */
export const AUDIT_FLUSH_MS = 10
/** A queue this long is written at the next turn of the event loop instead. */
const MAX_QUEUED = 1024
/** Records are built (digests) for at most this long before the event loop gets a turn. */
const BUILD_SLICE_MS = 4
/** Refusal groups counted in one window; past it, new groups share one per kind and outcome. */
const MAX_REFUSAL_GROUPS = 10_000
/** Characters JSON.stringify leaves raw that some log shippers split lines on (NEL, C1, LS, PS). */
const LINE_BREAKERS = /[\u0080-\u009f\u2028\u2029]/g

/** Canonical JSON (sorted keys), depth-capped, for digesting. */
function canonical(value: unknown, depth: number): string {
  if (depth > MAX_DIGEST_DEPTH) return '"…"'
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null'
  let out: string
  if (Array.isArray(value)) {
    out = '['
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonical(value[i], depth + 1)
    return `${out}]`
  }
  const keys = Object.keys(value)
  if (keys.length > 1) keys.sort()
  out = '{'
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!
    out += `${i === 0 ? '' : ','}${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k], depth + 1)}`
  }
  return `${out}}`
}

/** SHA-256 (hex) of the canonical JSON of `args`, which is UTF-8 encoded. */
export function argumentsDigest(args: unknown): string {
  return Bun.SHA256.hash(canonical(args, 0), 'hex')
}

/** An auth event: what `record` is given. */
export type AuditEvent = Omit<AuditRecord, 'at' | 'id'>

/** What the request path queued: the time and the event, nothing computed yet. */
interface Queued {
  at: number
  kind: string
  outcome: string
  call?: ToolCallEvent
  event?: AuditEvent
}

export interface AuditLogOptions {
  store: AuditStore
  now: () => number
  /** Write each batch's records, one JSON line each, here (stdout in the server); undefined to disable. */
  writeLines?: (lines: string[]) => void
  /** The tier of a registered tool, for tool-call records. */
  tierOf: (tool: string) => Tier | undefined
  /** Also told of every record when it is made (metrics count the refusals). Must not throw. */
  onRecord?: (record: Pick<AuditRecord, 'kind' | 'outcome'>) => void
  /** Queued records are written at most this long after they happen (default `AUDIT_FLUSH_MS`). */
  flushMs?: number
  /** Repeated refusals of one group are written once per this window, then as one count (default 60 s). */
  aggregateMs?: number
  /** Records are built for at most this long before the event loop gets a turn (default `BUILD_SLICE_MS`). */
  buildSliceMs?: number
}

/** The repeats of one refusal group in the current window. */
interface RefusalGroup {
  first: AuditEvent
  repeats: number
}

const capDetail = (detail: string) => (detail.length > MAX_DETAIL_CHARS ? `${detail.slice(0, MAX_DETAIL_CHARS)}…` : detail)
const escapeChar = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`

export class AuditLog implements ToolCallObserver {
  readonly #o: AuditLogOptions
  #queue: Queued[] = []
  #timer: ReturnType<typeof setTimeout> | undefined
  #immediate: ReturnType<typeof setImmediate> | undefined
  #closed = false
  /** Set when the last batch could not be stored; cleared by the next one that could. */
  #failing = false
  /** The write going on (flushes run one after another, so records are stored in order). */
  #writing: Promise<void> = Promise.resolve()
  #pendingWrites = 0
  readonly #flushNow = () => void this.flush()
  readonly #refusals = new Map<string, RefusalGroup>()
  #window: ReturnType<typeof setInterval> | undefined

  constructor(opts: AuditLogOptions) {
    this.#o = opts
  }

  onToolCall(e: ToolCallEvent): void {
    // A name no tool has is the caller's to repeat at will: aggregated like any refusal.
    if (e.outcome === 'unknown_tool') {
      const p = e.principal
      this.refusal({ kind: 'tool_call', outcome: 'unknown_tool', userId: p.id, email: p.email, tier: p.tier, tool: e.tool, transport: e.transport, detail: 'no tool has this name' })
      return
    }
    this.#enqueue({ at: this.#o.now(), kind: 'tool_call', outcome: e.outcome, call: e })
  }

  /**
   * Record a refusal a client can repeat at will: written at once the first time in a window for
   * its kind, outcome, user and address (and `variant`: a reason from a fixed set, never client
   * input, that deserves its own first record), counted after that (see the module comment).
   */
  refusal(event: AuditEvent, variant = ''): void {
    let key = `${event.kind}\u0000${event.outcome}\u0000${event.userId ?? ''}\u0000${event.clientAddress ?? ''}\u0000${variant}`
    if (!this.#refusals.has(key) && this.#refusals.size >= MAX_REFUSAL_GROUPS) key = `${event.kind}\u0000${event.outcome}\u0000*`
    const group = this.#refusals.get(key)
    if (group) {
      group.repeats++
      try {
        this.#o.onRecord?.(event)
      } catch (err) {
        console.error('[audit] onRecord failed:', err)
      }
      return
    }
    this.#refusals.set(key, { first: event, repeats: 0 })
    this.#window ??= setInterval(() => this.#closeWindow(), this.#o.aggregateMs ?? 60_000)
    this.#window.unref?.()
    this.record(event)
  }

  /** Write one record per refusal group that repeated in the window, and start a new window. */
  #closeWindow(): void {
    const groups = [...this.#refusals.values()]
    this.#refusals.clear()
    if (groups.length === 0) {
      clearInterval(this.#window)
      this.#window = undefined
      return
    }
    const seconds = Math.round((this.#o.aggregateMs ?? 60_000) / 1000)
    for (const { first, repeats } of groups) {
      if (repeats === 0) continue
      const detail = `repeated ${repeats} more time${repeats === 1 ? '' : 's'} within ${seconds} s${first.detail ? `: ${first.detail}` : ''}`
      this.#enqueue({ at: this.#o.now(), kind: first.kind, outcome: first.outcome, event: { ...first, detail } }, false)
    }
  }

  /** Record an event now. Fire and forget: a failing store is reported on stderr. */
  record(event: AuditEvent): void {
    this.#enqueue({ at: this.#o.now(), kind: event.kind, outcome: event.outcome, event })
  }

  /**
   * Write every queued record: the JSON lines, then one store transaction, in order after any
   * write still going on. Resolves once all of them are written; never rejects.
   */
  flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer)
    if (this.#immediate !== undefined) clearImmediate(this.#immediate)
    this.#timer = this.#immediate = undefined
    const queued = this.#queue
    if (queued.length === 0) return this.#writing
    this.#queue = []
    // With no write going on, the first slice is built and handed to the store right now.
    this.#writing = this.#pendingWrites === 0 ? this.#writeAll(queued) : this.#writing.then(() => this.#writeAll(queued))
    return this.#writing
  }

  /**
   * Build and write `queued` a slice at a time: a record's digest costs about a millisecond for an
   * argument object of a few thousand keys, and a batch of them built at once held the event loop
   * for tens of milliseconds (every other request waited). Between slices it serves requests.
   */
  async #writeAll(queued: Queued[]): Promise<void> {
    this.#pendingWrites++
    try {
      await this.#writeSlices(queued)
    } finally {
      this.#pendingWrites--
    }
  }

  async #writeSlices(queued: Queued[]): Promise<void> {
    const sliceMs = this.#o.buildSliceMs ?? BUILD_SLICE_MS
    const flushMs = this.#o.flushMs ?? AUDIT_FLUSH_MS
    let built: AuditRecord[] = []
    let since = performance.now()
    for (let i = 0; i < queued.length; ) {
      const started = performance.now()
      const first = i
      while (i < queued.length && (i === first || performance.now() - started < sliceMs)) {
        const q = queued[i++]!
        try {
          built.push(this.#build(q))
        } catch (err) {
          console.error(`[audit] could not build a ${q.kind} audit record:`, err)
        }
      }
      // One store write per flush (one command for a networked store), unless building the
      // records takes longer than a flush interval: then what is built is written meanwhile.
      if (i >= queued.length || performance.now() - since >= flushMs) {
        await this.#write(built)
        built = []
        since = performance.now()
      }
      if (i < queued.length) await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** The JSON lines, then one store transaction. Never rejects. */
  #write(records: AuditRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve()
    if (this.#o.writeLines) {
      try {
        // JSON.stringify escapes CR/LF inside values but not NEL, C1 controls or U+2028/2029, which
        // some log shippers (Fluent Bit, Python splitlines, Java \R) take for line breaks: escaped
        // here too, so one record is one line for every reader.
        this.#o.writeLines(records.map((r) => `{"audit":"${new Date(r.at).toISOString()}",${JSON.stringify(r).slice(1)}`.replace(LINE_BREAKERS, escapeChar)))
      } catch (err) {
        console.error('[audit] could not write the audit lines:', err)
      }
    }
    const failed = (err: unknown) => {
      this.#failing = true
      console.error(`[audit] could not store the audit records (${records.length}):`, err)
    }
    try {
      return this.#o.store.append(records).then(() => {
        this.#failing = false
      }, failed)
    } catch (err) {
      failed(err)
      return Promise.resolve()
    }
  }

  /**
   * Whether records can be stored right now: what is queued is written, and the answer is whether
   * that worked. Admin tools run only when it is true (ASVS 16.5.3: no privileged action that
   * would go unrecorded).
   */
  async writable(): Promise<boolean> {
    await this.flush()
    return !this.#failing
  }

  /** Records matching `q`, newest first, including every record made before this call. */
  async query(q: AuditQuery): Promise<AuditRecord[]> {
    await this.flush()
    return this.#o.store.query(q)
  }

  /** Write what is queued (and the counts of repeated refusals); records made afterwards are written at once (shutdown). */
  close(): Promise<void> {
    this.#closeWindow()
    clearInterval(this.#window)
    this.#window = undefined
    this.#closed = true
    return this.flush()
  }

  /** Records queued and not yet written (tests). */
  get queued(): number {
    return this.#queue.length
  }

  #enqueue(q: Queued, observed = true): void {
    try {
      if (observed) this.#o.onRecord?.(q)
    } catch (err) {
      console.error('[audit] onRecord failed:', err)
    }
    this.#queue.push(q)
    if (this.#closed) void this.flush()
    else if (this.#queue.length >= MAX_QUEUED) this.#immediate ??= setImmediate(this.#flushNow)
    else this.#timer ??= setTimeout(this.#flushNow, this.#o.flushMs ?? AUDIT_FLUSH_MS)
  }

  /** The stored record: only the fields that have a value, in a fixed order. */
  #build(q: Queued): AuditRecord {
    const r: AuditRecord = { at: q.at, kind: q.kind, outcome: q.outcome }
    const e = q.call
    if (e !== undefined) {
      const p = e.principal
      r.userId = p.id
      if (p.email !== undefined) r.email = p.email
      r.tier = p.tier
      r.tool = e.tool
      const toolTier = this.#o.tierOf(e.tool)
      if (toolTier !== undefined) r.toolTier = toolTier
      r.transport = e.transport
      r.argsDigest = argumentsDigest(e.arguments)
      r.latencyMs = Math.round(e.latencyMs * 100) / 100
      if (e.detail !== undefined) r.detail = capDetail(e.detail)
      return r
    }
    const ev = q.event!
    const fields = r as unknown as Record<string, unknown>
    for (const k of Object.keys(ev) as (keyof AuditEvent)[]) {
      const v = ev[k]
      if (v !== undefined && k !== 'kind' && k !== 'outcome') fields[k] = v
    }
    if (r.detail !== undefined) r.detail = capDetail(r.detail)
    return r
  }
}
