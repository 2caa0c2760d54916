/**
 * @module index
 * Entry point: read the configuration, start the server, stop cleanly on SIGINT/SIGTERM.
 */
import { ConfigError, loadConfig } from './config.ts'
import { startServer } from './server.ts'

let config
try {
  config = loadConfig()
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(1)
  }
  throw err
}

const server = await startServer(config)
console.log(`mcprag listening on ${server.url} (MCP endpoint ${server.url}/mcp)`)
if (config.secretGenerated)
  console.log('note: MCPRAG_SECRET is not set; a random one was generated, so cursors do not survive a restart')

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    console.log(`${signal} received, shutting down`)
    void server.stop().then(() => process.exit(0))
  })
}
