/**
 * The ceiling: bare `Bun.serve`, no MCP logic, no validation, no framework.
 * - POST (target 1): parse the JSON-RPC body and answer the echo tool's result as a small JSON.
 * - WebSocket at /mcp/ws (ceiling of target 7): answer every request frame the same way
 *   (`initialize` gets a minimal result so clients can start).
 * - GET /sse (memory floor): an SSE response that sends one `endpoint` event and stays open.
 */
import type { ServerWebSocket } from 'bun'

type Message = { id?: number | string; method?: string; params?: { arguments?: { text?: string } } }

const answer = (msg: Message) =>
  msg.method === 'initialize'
    ? { jsonrpc: '2.0', id: msg.id ?? null, result: { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'raw', version: '1' } } }
    : { jsonrpc: '2.0', id: msg.id ?? null, result: { content: [{ type: 'text', text: msg.params?.arguments?.text ?? '' }] } }

const encoder = new TextEncoder()

const server = Bun.serve({
  hostname: '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  async fetch(req, srv) {
    if (req.method === 'POST') return Response.json(answer((await req.json()) as Message))
    const path = new URL(req.url).pathname
    if (path === '/mcp/ws' && srv.upgrade(req, { headers: { 'sec-websocket-protocol': 'mcp' }, data: undefined })) return undefined
    if (path === '/sse') {
      const body = new ReadableStream<Uint8Array>({
        start: (c) => c.enqueue(encoder.encode('event: endpoint\ndata: /messages?sessionId=raw\n\n')),
      })
      srv.timeout(req, 0)
      return new Response(body, { headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' } })
    }
    return new Response('Not Found', { status: 404 })
  },
  websocket: {
    idleTimeout: 0,
    message(ws: ServerWebSocket<undefined>, data) {
      const msg = JSON.parse(String(data)) as Message
      if (msg.id !== undefined) ws.send(JSON.stringify(answer(msg)))
    },
  },
})
console.log(`LISTENING ${server.url.origin}`)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void server.stop(true).then(() => process.exit(0)))
process.on('SIGUSR2', () => Bun.gc(true))
