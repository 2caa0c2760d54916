/**
 * @module core/modern-requests
 * Requests of the per-request era (MCP 2026-07-28): each one stands alone, naming its protocol
 * version and client capabilities in `_meta` (see `envelope.ts`), with no `initialize` and no
 * session. The methods, tiers, audit and rate limits are those of the 2025 era (the same method
 * table and `ToolAccess`); what differs is the frame: `server/discover`, `resultType` on every
 * result, caching hints, -32602 for an unknown resource, and input from the client through
 * `input_required` rounds (`input-round.ts`) instead of server-to-client requests.
 */
import { Call, type CallDeps, type Exchange } from './call.ts'
import { META } from './envelope.ts'
import { ErrorCode, McpError, invalidParams, methodNotFound } from './errors.ts'
import { INPUT_METHODS, InputRequiredSignal, InputRound, type RoundBinding } from './input-round.ts'
import { failure, success, type JsonRpcRequest, type JsonRpcResponse, type Params } from './jsonrpc.ts'
import type { MethodDeps } from './methods/method.ts'
import { METHODS } from './methods/table.ts'
import { digestOf, type RequestStateSealer } from './request-state.ts'
import type { Implementation } from './types.ts'
import { MODERN_PROTOCOL_VERSIONS } from './versions.ts'

export interface ModernRequestsOptions {
  info: Implementation
  instructions?: string
  capabilities: Params
  methods: MethodDeps
  calls: CallDeps
  sealer: RequestStateSealer
  /** How long a `requestState` stays valid: the client's user may take a while to answer. */
  requestStateTtlMs: number
  now(): number
}

/** Methods of the 2025 table that 2026-07-28 removed (subscriptions/listen replaces them). */
const REMOVED = new Set(['resources/subscribe', 'resources/unsubscribe'])

/**
 * Caching hints (2026-07-28 `server/utilities/caching`), by method. Lists change only when the
 * registry does, which `subscriptions/listen` announces, so a client may reuse them for a minute;
 * they are private because tools/list depends on the caller's tier and everything sits behind the
 * caller's credentials. Discovery is the same for everyone. Resource contents may change at any
 * moment (announced only to subscribers), so a read is not to be reused.
 */
const CACHE_HINTS: ReadonlyMap<string, { ttlMs: number; cacheScope: 'public' | 'private' }> = new Map([
  ['server/discover', { ttlMs: 300_000, cacheScope: 'public' }],
  ['tools/list', { ttlMs: 60_000, cacheScope: 'private' }],
  ['prompts/list', { ttlMs: 60_000, cacheScope: 'private' }],
  ['resources/list', { ttlMs: 60_000, cacheScope: 'private' }],
  ['resources/templates/list', { ttlMs: 60_000, cacheScope: 'private' }],
  ['resources/read', { ttlMs: 0, cacheScope: 'private' }],
])

export class ModernRequests {
  readonly #o: ModernRequestsOptions
  readonly #inflight = new Set<Call>()
  /** The `_meta` every result carries: who answered (spec PR #3002, SHOULD). */
  readonly #meta: Params

  constructor(o: ModernRequestsOptions) {
    this.#o = o
    this.#meta = { [META.serverInfo]: o.info }
  }

  /** Requests running now (shutdown waits for them). */
  get inFlight(): number {
    return this.#inflight.size
  }

  /** Cancel everything running (shutdown). */
  cancelAll(): void {
    for (const c of this.#inflight) c.cancel()
    this.#inflight.clear()
  }

  /** The `server/discover` result. Only modern revisions are listed: 2025 ones are negotiated by `initialize`. */
  discover(): Params {
    const result: Params = { supportedVersions: [...MODERN_PROTOCOL_VERSIONS], capabilities: this.#o.capabilities }
    if (this.#o.instructions) result.instructions = this.#o.instructions
    return this.#complete('server/discover', result)
  }

  /**
   * Handle one request whose envelope the transport has validated (`exchange.envelope`). Returns
   * the response, or undefined when the client cancelled it.
   */
  async handle(request: JsonRpcRequest, exchange: Exchange): Promise<JsonRpcResponse | undefined> {
    const { id, method } = request
    if (method === 'server/discover') return success(id, this.discover())
    const impl = REMOVED.has(method) ? undefined : METHODS.get(method)
    if (!impl) return failure(id, methodNotFound(method).toJson())
    const params = request.params ?? {}
    let round: InputRound | undefined
    if (INPUT_METHODS.has(method)) {
      try {
        round = InputRound.begin(params, { sealer: this.#o.sealer, binding: bindingOf(method, params, exchange), now: this.#o.now(), ttlMs: this.#o.requestStateTtlMs })
      } catch (err) {
        if (err instanceof McpError) return failure(id, err.toJson())
        throw err
      }
    }
    const call = new Call(exchange, id, params, this.#o.calls, round)
    this.#inflight.add(call)
    try {
      const result = await impl(params, call, this.#o.methods)
      if (call.cancelled || result === undefined) return undefined
      // A refusal recorded while the handler went on (it caught it) still ends the request.
      if (round?.error) return failure(id, round.error.toJson())
      return success(id, this.#complete(method, result))
    } catch (err) {
      if (call.cancelled) return undefined
      if (err instanceof InputRequiredSignal) return success(id, round!.result(this.#meta))
      if (err instanceof McpError) return failure(id, modernError(err).toJson())
      console.error(`[core] ${method} failed:`, err)
      return failure(id, { code: ErrorCode.InternalError, message: `Internal error while handling ${method}` })
    } finally {
      this.#inflight.delete(call)
      // A round that stopped abandoned its handler: whatever it still runs is told to stop (signal).
      if (round?.stopped) call.cancel()
    }
  }

  /** A complete result: `resultType`, the server's identity, and the caching hints of its method. */
  #complete(method: string, result: Params): Params {
    const out: Params = { resultType: 'complete', ...result }
    out._meta = result._meta === undefined ? this.#meta : { ...(result._meta as Params), ...this.#meta }
    const hint = CACHE_HINTS.get(method)
    if (hint) {
      out.ttlMs = hint.ttlMs
      out.cacheScope = hint.cacheScope
    }
    return out
  }
}

/** What a `requestState` is bound to: the caller, the request, and its salient parameters. */
function bindingOf(method: string, params: Params, exchange: Exchange): RoundBinding {
  const target = method === 'resources/read' ? params.uri : params.name
  return {
    principal: exchange.principal.id,
    method,
    target: typeof target === 'string' ? target : '',
    digest: () => digestOf(method === 'resources/read' ? null : (params.arguments ?? {})),
  }
}

/** 2026-07-28 answers an unknown resource with -32602 (SEP-2164); -32002 is 2025 only. */
function modernError(err: McpError): McpError {
  return err.code === ErrorCode.ResourceNotFound ? invalidParams(err.message, err.data) : err
}
