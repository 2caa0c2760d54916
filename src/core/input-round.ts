/**
 * @module core/input-round
 * One round of a 2026-07-28 multi-round-trip request (MRTR). Handlers keep calling `ctx.sample`,
 * `ctx.elicit` and `ctx.listRoots` as in the 2025 era; here those calls do not send a request to
 * the client. Each round re-runs the handler from the start:
 *
 * - an input the client already answered (in `inputResponses`, or sealed in `requestState` by an
 *   earlier round) resolves at once with that answer;
 * - an input not answered yet is collected, and the handler is abandoned (its promise never
 *   settles, its signal aborts); the round answers `input_required` with every input the handler
 *   asked for before its next pause (so `Promise.all([ctx.elicit(), ctx.sample()])` asks both at
 *   once) and a sealed `requestState` holding the answers so far.
 *
 * Inputs are matched by key: the `key` a handler passes, or their order of asking (`elicit-1`,
 * `sample-2`, …), so a handler must ask the same questions in the same order for the same
 * arguments. Nothing is kept on the server between rounds, so any instance can serve the next one.
 */
import { ErrorCode, McpError, invalidParams } from './errors.ts'
import type { Params } from './jsonrpc.ts'
import type { RequestStatePayload, RequestStateSealer } from './request-state.ts'

/** The requests that may answer `input_required` (2026-07-28 MRTR "Supported Requests"). */
export const INPUT_METHODS: ReadonlySet<string> = new Set(['tools/call', 'prompts/get', 'resources/read'])

/** Thrown out of `settle` when the round stops to ask the client: not an error, never sent. */
export class InputRequiredSignal extends Error {
  constructor() {
    super('the request needs input from the client')
    this.name = 'InputRequiredSignal'
  }
}

/** What a state is bound to: who asked what, with which arguments. */
export interface RoundBinding {
  principal: string
  method: string
  target: string
  /** A digest of the request's salient parameters; computed only when a state is sealed or opened. */
  digest(): string
}

export interface RoundOptions {
  sealer: RequestStateSealer
  binding: RoundBinding
  now: number
  ttlMs: number
}

type InputMethod = 'elicitation/create' | 'sampling/createMessage' | 'roots/list'
const KIND: Record<InputMethod, string> = { 'elicitation/create': 'elicit', 'sampling/createMessage': 'sample', 'roots/list': 'roots' }

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const badState = (why: string) =>
  invalidParams(`Invalid or expired requestState: ${why}. Send the original request again without requestState and inputResponses to start over`, {
    reason: 'invalid_request_state',
  })

export class InputRound {
  readonly #o: RoundOptions
  /** Every answer the client has given, from this request and (sealed) from earlier rounds. */
  readonly #answers: Record<string, unknown>
  /** The answers this run of the handler used: the next round's state carries exactly these. */
  readonly #used: Record<string, unknown> = {}
  #asked: Record<string, { method: InputMethod; params: Params }> | undefined
  #seq = 0
  #error: McpError | undefined
  #stopped = false
  #stop!: (reason: unknown) => void
  /** Rejects when the round stops: input needed, a refusal, or cancellation. */
  readonly #halted = new Promise<never>((_, reject) => (this.#stop = reject))

  private constructor(o: RoundOptions, answers: Record<string, unknown>) {
    this.#o = o
    this.#answers = answers
    // Nobody may be racing against it yet (a handler that finishes without asking anything).
    this.#halted.catch(() => {})
  }

  /** Read a round from a request's `inputResponses` and `requestState`; throws -32602 when they are unusable. */
  static begin(params: Params, o: RoundOptions): InputRound {
    const responses = params.inputResponses
    if (responses !== undefined && !isObject(responses))
      throw invalidParams('Invalid params: "inputResponses" must be an object mapping each key of the previous inputRequests to the client\'s result for it')
    let sealed: Record<string, unknown> = {}
    const state = params.requestState
    if (state !== undefined) {
      if (typeof state !== 'string') throw badState('it must be the string the server sent, echoed exactly')
      const payload = o.sealer.open(state)
      if (!payload) throw badState('it does not verify (it was altered, or sealed by a server with another secret)')
      const b = o.binding
      if (payload.p !== b.principal || payload.m !== b.method || payload.t !== b.target || payload.d !== b.digest())
        throw badState('it was issued to another caller or for another request (a different target or arguments)')
      if (!(payload.exp > o.now)) throw badState('it expired')
      sealed = isObject(payload.a) ? payload.a : {}
    }
    // A sealed answer wins over a new one under the same key: earlier rounds cannot be rewritten.
    return new InputRound(o, { ...(responses as Record<string, unknown> | undefined), ...sealed })
  }

  /** The refusal that ends the request, if one was recorded (it wins over any result). */
  get error(): McpError | undefined {
    return this.#error
  }

  /** True once the round stopped (input needed, a refusal, cancellation): the handler is abandoned. */
  get stopped(): boolean {
    return this.#stopped
  }

  /**
   * The client's answer to one input request, or (not answered yet) a promise that never settles:
   * the request is asked for, and the handler is abandoned once the round stops.
   */
  ask(method: InputMethod, params: Params | undefined, key?: string): Promise<Record<string, unknown>> {
    const k = key ?? `${KIND[method]}-${++this.#seq}`
    if ((this.#asked && Object.hasOwn(this.#asked, k)) || Object.hasOwn(this.#used, k))
      return this.fail(new McpError(ErrorCode.InternalError, `The handler asked two inputs under the same key "${k}": give each ctx.sample/elicit/listRoots call its own key`))
    // Own keys only: a key such as "constructor" must not find Object.prototype.
    const answer = Object.hasOwn(this.#answers, k) ? this.#answers[k] : undefined
    if (answer !== undefined) {
      const problem = answerProblem(method, answer)
      if (problem) return this.fail(invalidParams(`Invalid params: inputResponses["${k}"] is not a valid ${method} result: ${problem}`, { key: k }))
      this.#used[k] = answer
      return Promise.resolve(answer as Record<string, unknown>)
    }
    if (this.#asked === undefined) {
      this.#asked = {}
      // Inputs asked together (Promise.all) are collected before the round stops.
      setTimeout(() => this.#halt(new InputRequiredSignal()), 0)
    }
    this.#asked[k] = { method, params: params ?? {} }
    return new Promise(() => {})
  }

  /** Stop the round with a refusal the client must see, whatever the handler does with it. */
  fail(error: McpError): Promise<never> {
    this.#error ??= error
    this.#halt(error)
    return new Promise(() => {})
  }

  /** The request was cancelled: whoever waits on `settle` stops waiting. */
  cancel(): void {
    this.#halt(new McpError(ErrorCode.ConnectionClosed, 'The request was cancelled'))
  }

  /** The handler's outcome, unless the round stops first (then `settle` rejects with why). */
  settle<T>(outcome: Promise<T>): Promise<T> {
    return Promise.race([outcome, this.#halted])
  }

  /** The `input_required` result: what the handler asked for, and the state to echo back. */
  result(meta: Params): Params {
    const b = this.#o.binding
    const payload: RequestStatePayload = { p: b.principal, m: b.method, t: b.target, d: b.digest(), exp: this.#o.now + this.#o.ttlMs, a: this.#used }
    return { resultType: 'input_required', inputRequests: this.#asked ?? {}, requestState: this.#o.sealer.seal(payload), _meta: meta }
  }

  #halt(reason: unknown): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#stop(reason)
  }
}

/** Why an answer is not a result of `method` (schema 2026-07-28), or undefined when it is one. */
function answerProblem(method: InputMethod, answer: unknown): string | undefined {
  if (!isObject(answer)) return 'it must be an object'
  switch (method) {
    case 'elicitation/create':
      if (answer.action !== 'accept' && answer.action !== 'decline' && answer.action !== 'cancel') return '"action" must be "accept", "decline" or "cancel"'
      if (answer.content !== undefined && !isObject(answer.content)) return '"content" must be an object when present'
      return undefined
    case 'sampling/createMessage':
      if (answer.role !== 'assistant' && answer.role !== 'user') return '"role" must be "assistant" or "user"'
      if (!isObject(answer.content) && !Array.isArray(answer.content)) return '"content" must be a content block or an array of them'
      return undefined
    case 'roots/list':
      if (!Array.isArray(answer.roots) || !answer.roots.every((r) => isObject(r) && typeof r.uri === 'string'))
        return '"roots" must be an array of objects with a string "uri"'
      return undefined
  }
}
