/**
 * Start a real server on a free loopback port for a test file, with conformance fixtures on.
 */
import { loadConfig } from '../../src/config.ts'
import { startServer, type RunningServer } from '../../src/server.ts'

export async function startTestServer(env: Record<string, string> = {}): Promise<RunningServer & { mcpUrl: string }> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', MCPRAG_FIXTURES: 'conformance', ...env })
  const server = await startServer(config)
  return Object.assign(server, { mcpUrl: `${server.url}/mcp` })
}
