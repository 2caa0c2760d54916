/** The transport contract over WebSocket (`/mcp/ws`), with the SDK's WebSocketClientTransport. */
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js'
import { runTransportContract } from './transport.case.ts'

runTransportContract('WebSocket', { connect: (base) => new WebSocketClientTransport(new URL(`${base.replace('http', 'ws')}/mcp/ws`)) })
