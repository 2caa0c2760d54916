/**
 * Tools the transport contract suite registers next to the conformance fixtures: they let a test
 * see what the server saw (its session id, a cancellation), which an ordinary result cannot.
 */
import type { Registry } from '../../src/core/registry.ts'
import { waitForAbort } from './wait.ts'

export const WHOAMI_TOOL = 'contract_whoami'
export const WAIT_TOOL = 'contract_wait_for_cancel'

export interface ContractTools {
  /** One entry per call of the wait tool: whether its signal was aborted. */
  waits: { aborted: boolean }[]
}

export function registerContractTools(registry: Registry): ContractTools {
  const waits: { aborted: boolean }[] = []
  registry.tool({
    name: WHOAMI_TOOL,
    description: "Answers with the caller's session id",
    handler: (_args, ctx) => ({ content: [{ type: 'text', text: ctx.session?.id ?? '' }] }),
  })
  registry.tool({
    name: WAIT_TOOL,
    description: 'Waits until cancelled (at most 10 s)',
    handler: async (_args, ctx) => {
      const record = { aborted: false }
      waits.push(record)
      await waitForAbort(ctx.signal, 10_000, record)
      return { content: [{ type: 'text', text: record.aborted ? 'cancelled' : 'not cancelled' }] }
    },
  })
  return { waits }
}
