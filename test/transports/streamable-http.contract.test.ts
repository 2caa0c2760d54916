/** The transport contract over Streamable HTTP (`/mcp`), with the SDK's StreamableHTTPClientTransport. */
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { runTransportContract } from './transport.case.ts'

runTransportContract('Streamable HTTP', {
  connect: (base) => new StreamableHTTPClientTransport(new URL(`${base}/mcp`)),
  // Closing the SDK client only drops its connections; DELETE is how it ends the session.
  shutdown: async (client, transport) => {
    await (transport as StreamableHTTPClientTransport).terminateSession()
    await client.close()
  },
})
