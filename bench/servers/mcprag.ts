/**
 * The mcprag server the benchmark runs: exactly `startServer(loadConfig(env))`, as `bun run start`
 * does, plus one bench-only tool, `echo_progress` (the echo tool that reports progress once, so a
 * call that carries `_meta.progressToken` is answered with an SSE stream; target 6).
 * Prints `LISTENING <url>`; SIGINT/SIGTERM stop it cleanly (so `--cpu-prof` is written); SIGUSR2
 * runs a full garbage collection (memory measurements read RSS after one).
 */
import { loadConfig } from '../../src/config.ts'
import { defineTool } from '../../src/core/registry.ts'
import { startServer } from '../../src/server.ts'

const server = await startServer(loadConfig(process.env))
server.registry.tool(
  defineTool<{ text: string }>({
    name: 'echo_progress',
    description: 'Bench-only: reports progress once, then returns the given text.',
    inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'], additionalProperties: false },
    tier: 'public',
    handler: async ({ text }, ctx) => {
      await ctx.progress(1, 1)
      return { content: [{ type: 'text', text }] }
    },
  }),
)

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    void server.stop().then(() => process.exit(0))
  })
}
process.on('SIGUSR2', () => Bun.gc(true))
// Last, once the signal handlers are installed: the runner may signal as soon as it reads this.
console.log(`LISTENING ${server.url}`)
