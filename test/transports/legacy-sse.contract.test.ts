/** The transport contract over legacy HTTP+SSE (`/sse`), with the SDK's SSEClientTransport. */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { runTransportContract } from './transport.case.ts'

runTransportContract('legacy SSE', { connect: (base) => new SSEClientTransport(new URL(`${base}/sse`)) })
