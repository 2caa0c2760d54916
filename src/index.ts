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
console.log(`mcprag listening on ${server.url} (MCP endpoint ${server.url}/mcp), instance ${server.instanceId}`)
for (const note of server.stores.notes) console.log(note.startsWith('warning:') ? note : `note: ${note}`)
if (config.secretGenerated)
  console.log('note: MCPRAG_SECRET is not set; a random one was generated, so cursors do not survive a restart')
if (!config.auth) console.log('warning: MCPRAG_AUTH=off: every caller is an anonymous admin (local development only)')
for (const note of config.auth?.notes ?? []) console.log(`note: ${note}`)
if (config.auth && !config.auth.smtpUrl) console.log('note: SMTP_URL is not set: sign-in emails (link and token) are printed here')
for (const line of server.codeIndex.report()) console.log(line)
const firstRun = await server.firstRunLink?.()
if (firstRun)
  console.log(
    [
      '',
      'No users yet. Become the first admin by opening this one-time link (valid for an hour, works once):',
      `  ${firstRun}`,
      `Then add ${server.url}/mcp to an MCP client and sign in with that address in the browser, for example:`,
      `  npx mcp-remote ${server.url}/mcp`,
      `  npx @modelcontextprotocol/inspector   (Streamable HTTP, URL ${server.url}/mcp, Connect)`,
      '',
    ].join('\n'),
  )
console.log(`API docs at ${server.url}/docs (OpenAPI at ${server.url}/openapi.json); /health, /ready and /metrics for operations`)
if (!config.metricsToken && !/^(127\.|localhost$|::1$|\[::1\]$)/.test(config.host))
  console.log('note: MCPRAG_METRICS_TOKEN is not set: anyone who reaches the server can read /metrics')

// A promise nobody catches is a bug, but it must not take every session of this instance down
// with it (Bun ends the process by default): say so loudly and keep serving.
process.on('unhandledRejection', (reason) => console.error('[mcprag] bug: a failed promise had nobody to handle it; the server keeps running:', reason))

let stopping = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return
    stopping = true
    console.log(`${signal} received: draining (/ready answers 503), then shutting down`)
    void server.stop().then(() => process.exit(0))
  })
}
