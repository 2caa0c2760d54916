/**
 * The transport contract over Streamable HTTP (`/mcp`), with the SDK's StreamableHTTPClientTransport;
 * with authentication on, its `requestInit` headers carry the token on every request.
 */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { bearer } from '../_utils/auth.ts'
import { runTransportContract } from './transport.case.ts'

for (const [auth, redis] of [[false, false], [true, false], [false, true], [true, true]] as const)
  runTransportContract(
    'Streamable HTTP',
    {
      connect: (base, token) => new StreamableHTTPClientTransport(new URL(`${base}/mcp`), token ? { requestInit: { headers: bearer(token) } } : {}),
      // Closing the SDK client only drops its connections; DELETE is how it ends the session.
      shutdown: async (client, transport) => {
        await (transport as StreamableHTTPClientTransport).terminateSession()
        await client.close()
      },
    },
    { auth, redis },
  )
