/**
 * @module tools/whoami
 * `whoami`: the signed-in caller as the server sees it (user id, email, tier). Tier `user`.
 */
import { defineTool } from '../core/registry.ts'

export const whoamiTool = defineTool<Record<string, never>>({
  name: 'whoami',
  title: 'Who am I',
  description: 'Returns the signed-in user as the server sees it: user id, email and tier.',
  inputSchema: { type: 'object', additionalProperties: false },
  outputSchema: {
    type: 'object',
    properties: { user_id: { type: 'string' }, email: { type: 'string' }, tier: { type: 'string' } },
    required: ['user_id', 'tier'],
  },
  annotations: { readOnlyHint: true, idempotentHint: true, openWorldHint: false },
  tier: 'user',
  handler: (_args, ctx) => {
    const { id, email, tier } = ctx.principal
    const structuredContent: Record<string, unknown> = email === undefined ? { user_id: id, tier } : { user_id: id, email, tier }
    return { content: [{ type: 'text', text: JSON.stringify(structuredContent) }], structuredContent }
  },
})
