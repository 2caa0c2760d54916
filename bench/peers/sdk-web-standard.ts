/**
 * Target 3: the official SDK's web-standard transport (`WebStandardStreamableHTTPServerTransport`,
 * @modelcontextprotocol/sdk 1.x) on `Bun.serve`, stateless, as the SDK's example
 * `honoWebStandardStreamableHttp` shows it: a new McpServer and a new transport per request,
 * default options (the reply to a request is an SSE stream). The tool is the same trivial echo.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js'
import * as z from 'zod/v4'

const getServer = () => {
  const server = new McpServer({ name: 'sdk-web-standard-bench', version: '1.0.0' })
  server.registerTool('echo', { description: 'Returns the given text unchanged.', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }))
  return server
}

const bun = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  async fetch(req) {
    if (new URL(req.url).pathname !== '/mcp') return new Response('Not Found', { status: 404 })
    const transport = new WebStandardStreamableHTTPServerTransport()
    const server = getServer()
    await server.connect(transport)
    return transport.handleRequest(req)
  },
})
console.log(`LISTENING ${bun.url.origin}`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void bun.stop(true).then(() => process.exit(0)))
