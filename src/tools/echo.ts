/**
 * @module tools/echo
 * `echo`: returns its input. The cheapest possible tool, used by health checks and benchmarks.
 */
import { defineTool } from '../core/registry.ts'

export const echoTool = defineTool<{ text: string }>({
  name: 'echo',
  title: 'Echo',
  description: 'Returns the given text unchanged. Useful to check connectivity.',
  inputSchema: {
    type: 'object',
    properties: { text: { type: 'string', description: 'Text to send back', maxLength: 100_000 } },
    required: ['text'],
    additionalProperties: false,
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  tier: 'public',
  handler: ({ text }) => ({ content: [{ type: 'text', text }] }),
})
