/**
 * The transport contract over legacy HTTP+SSE (`/sse`), with the SDK's SSEClientTransport; with
 * authentication on, its `requestInit` headers carry the token on the stream GET and every POST.
 */
import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js'
import { bearer } from '../_utils/auth.ts'
import { runTransportContract } from './transport.case.ts'

for (const [auth, redis] of [[false, false], [true, false], [false, true], [true, true]] as const)
  runTransportContract('legacy SSE', { connect: (base, token) => new SSEClientTransport(new URL(`${base}/sse`), token ? { requestInit: { headers: bearer(token) } } : {}) }, { auth, redis })
