/**
 * The server the soak test measures, run as its own process so its memory is its own. It prints
 * one JSON line `{"port": …}` once listening, then answers each stdin line `stats` with
 * `{"sessions": …, "logs": …}` after a full garbage collection, so the test reads the RSS of a
 * collected heap without a debug hook in the server itself.
 */
import { loadConfig } from '../../src/config.ts'
import { startServer } from '../../src/server.ts'
import type { MemorySessionStore } from '../../src/stores/memory/memory-session-store.ts'
import type { MemoryStreams } from '../../src/stores/memory/memory-streams.ts'

const server = await startServer(loadConfig())
console.log(JSON.stringify({ port: server.port }))

const decoder = new TextDecoder()
for await (const chunk of Bun.stdin.stream()) {
  for (const line of decoder.decode(chunk).split('\n')) {
    if (line.trim() !== 'stats') continue
    // Twice, with a pause: finalizers run after the first pass and free more on the second.
    Bun.gc(true)
    await Bun.sleep(200)
    Bun.gc(true)
    const sessions = (server.stores.sessions as MemorySessionStore).size
    const logs = (server.stores.streams as MemoryStreams).sessionCount
    console.log(JSON.stringify({ sessions, logs }))
  }
}
await server.stop()
