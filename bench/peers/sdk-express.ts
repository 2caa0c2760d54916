/**
 * Target 2: the official SDK (@modelcontextprotocol/sdk 1.x) as its docs show a stateless
 * Streamable HTTP server on Node + express (the SDK's `simpleStatelessStreamableHttp` example):
 * `createMcpExpressApp()`, and per request a new McpServer and a new
 * `StreamableHTTPServerTransport({ sessionIdGenerator: undefined })`, closed when the response
 * closes. Only the example's per-request `console.log` is left out. The tool is the trivial echo.
 * It runs on Node: the benchmark bundles it with `bun build --target=node --packages=external`.
 */
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { Request, Response } from 'express'
import * as z from 'zod/v4'

const getServer = () => {
  const server = new McpServer({ name: 'sdk-express-bench', version: '1.0.0' }, { capabilities: { logging: {} } })
  server.registerTool('echo', { description: 'Returns the given text unchanged.', inputSchema: { text: z.string() } }, async ({ text }) => ({
    content: [{ type: 'text', text }],
  }))
  return server
}

const app = createMcpExpressApp()
app.post('/mcp', async (req: Request, res: Response) => {
  const server = getServer()
  try {
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
  } catch (error) {
    console.error('Error handling MCP request:', error)
    if (!res.headersSent) res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal server error' }, id: null })
  }
})

const listener = app.listen(Number(process.env.PORT ?? 0), '127.0.0.1', (error?: Error) => {
  if (error) {
    console.error('Failed to start server:', error)
    process.exit(1)
  }
  const address = listener.address()
  const port = typeof address === 'object' && address ? address.port : 0
  console.log(`LISTENING http://127.0.0.1:${port}`)
})
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => listener.close(() => process.exit(0)))
