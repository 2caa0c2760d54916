/**
 * Tools the transport tests register on a running server's registry (`server.registry`), next to
 * the conformance fixtures. They live here rather than in src/fixtures because the tests need to
 * see what the server saw (a cancellation, for one), which a tool result cannot tell them.
 */
import type { Registry } from '../../src/core/registry.ts'
import { sleep, waitForAbort } from './wait.ts'

export const SEQUENCE_TOOL = 'test_event_sequence'
export const SLOW_TOOL = 'test_slow_cancellable'

/** What the slow tool observed, per call, in call order. */
export interface SlowCallRecord {
  started: number
  aborted: boolean
  finished: boolean
}

export interface TestTools {
  slowCalls: SlowCallRecord[]
}

/**
 * - `test_event_sequence {steps, delayMs, closeAfter?}`: for i = 1..steps sends progress i/steps and
 *   an info log `{step: i}`, waiting `delayMs` between steps; after step `closeAfter` it drops the
 *   client's connection (SSE polling) and carries on. Answers `sequence of <steps> steps complete`.
 * - `test_slow_cancellable`: waits up to 10 s for its signal to abort and records what it saw.
 */
export function registerTestTools(registry: Registry): TestTools {
  const slowCalls: SlowCallRecord[] = []
  registry.tool<{ steps: number; delayMs?: number; closeAfter?: number }>({
    name: SEQUENCE_TOOL,
    description: 'Emits numbered progress and log events with delays',
    inputSchema: {
      type: 'object',
      properties: {
        steps: { type: 'integer', minimum: 1, maximum: 100 },
        delayMs: { type: 'integer', minimum: 0, maximum: 1000 },
        closeAfter: { type: 'integer', minimum: 1 },
      },
      required: ['steps'],
      additionalProperties: false,
    },
    handler: async ({ steps, delayMs = 20, closeAfter }, ctx) => {
      for (let i = 1; i <= steps; i++) {
        await ctx.progress(i, steps, `step ${i}`)
        await ctx.log('info', { step: i }, 'sequence')
        if (i === closeAfter) ctx.closeStream()
        await sleep(delayMs)
      }
      return { content: [{ type: 'text', text: `sequence of ${steps} steps complete` }] }
    },
  })
  registry.tool({
    name: SLOW_TOOL,
    description: 'Waits until cancelled (at most 10 s)',
    handler: async (_args, ctx) => {
      const record: SlowCallRecord = { started: Date.now(), aborted: false, finished: false }
      slowCalls.push(record)
      await waitForAbort(ctx.signal, 10_000, record)
      record.finished = true
      return { content: [{ type: 'text', text: record.aborted ? 'cancelled' : 'slow call finished' }] }
    },
  })
  return { slowCalls }
}
