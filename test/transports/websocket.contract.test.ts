/**
 * The transport contract over WebSocket (`/mcp/ws`), with the SDK's WebSocketClientTransport. It
 * cannot send headers, so with authentication on each connection opens a fresh single-use ticket
 * URL, as a browser would.
 */
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js'
import { wsTicketUrl } from '../_utils/auth.ts'
import { runTransportContract } from './transport.case.ts'

for (const [auth, redis] of [[false, false], [true, false], [false, true], [true, true]] as const)
  runTransportContract(
    'WebSocket',
    { connect: async (base, token) => new WebSocketClientTransport(new URL(token ? await wsTicketUrl(base, token) : `${base.replace('http', 'ws')}/mcp/ws`)) },
    { auth, redis },
  )
