/**
 * Soak: one server process holds 1,000 idle sessions on each transport at once (Streamable HTTP
 * with its GET stream, legacy SSE, WebSocket) for a minute, then they all close, and the server
 * must be back to the memory it had before, give or take 10%, with no session or bus subscription
 * left. Clients are raw sockets and Bun's WebSocket, all on 127.0.0.1; the SDK would weigh more
 * than the server under test.
 *
 * The server runs with keep-alives slower than the hold, so the minute is truly silent on the SSE
 * streams: they survive only because the transports switch Bun's idle timeout off.
 */
import { afterAll, expect, test } from 'bun:test'
import net from 'node:net'
import { readFileSync } from 'node:fs'

// Overridable for a quick local run (SOAK_SESSIONS=50 SOAK_HOLD_MS=2000 bun test test/soak).
const PER_TRANSPORT = Number(process.env.SOAK_SESSIONS ?? 1000)
const HOLD_MS = Number(process.env.SOAK_HOLD_MS ?? 60_000)
const CONCURRENCY = 50
const INIT = (id: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'soak', version: '1' } },
})

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The server's resident set, from the kernel rather than from the process's own view. */
function rssKiB(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'))!
  return Number(/(\d+)/.exec(line)![1])
}

class SoakServer {
  readonly proc = Bun.spawn(['bun', 'test/soak/_soak-server.ts'], {
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'inherit',
    env: {
      ...process.env,
      PORT: '0',
      HOST: '127.0.0.1',
      MCPRAG_AUTH: 'off',
      MCPRAG_AUDIT_STDOUT: 'off',
      // Silence for the whole hold: no keep-alive comment and no WebSocket ping before it ends.
      MCPRAG_KEEPALIVE_MS: '120000',
      MCPRAG_WS_IDLE_TIMEOUT_S: '300',
      // 3000 sessions and streams of one anonymous user on one address: the caps are not under test.
      MCPRAG_MAX_SESSIONS_PER_USER: '100000',
      MCPRAG_MAX_SESSIONS_PER_ADDRESS: '100000',
      MCPRAG_MAX_STREAMS_PER_USER: '100000',
      MCPRAG_MAX_STREAMS_PER_ADDRESS: '100000',
    },
  })
  readonly #lines: string[] = []
  #waiters: ((line: string) => void)[] = []

  constructor() {
    void (async () => {
      const decoder = new TextDecoder()
      let buffered = ''
      for await (const chunk of this.proc.stdout) {
        buffered += decoder.decode(chunk)
        let nl: number
        while ((nl = buffered.indexOf('\n')) !== -1) {
          const line = buffered.slice(0, nl)
          buffered = buffered.slice(nl + 1)
          if (!line.startsWith('{')) continue
          const waiter = this.#waiters.shift()
          if (waiter) waiter(line)
          else this.#lines.push(line)
        }
      }
    })()
  }

  #nextLine(): Promise<string> {
    const line = this.#lines.shift()
    if (line !== undefined) return Promise.resolve(line)
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  async port(): Promise<number> {
    return (JSON.parse(await this.#nextLine()) as { port: number }).port
  }

  /** Collect garbage in the server, then report what it still holds and its RSS. */
  async stats(): Promise<{ sessions: number; logs: number; rssKiB: number }> {
    this.proc.stdin.write('stats\n')
    await this.proc.stdin.flush()
    const counts = JSON.parse(await this.#nextLine()) as { sessions: number; logs: number }
    return { ...counts, rssKiB: rssKiB(this.proc.pid) }
  }

  async stop(): Promise<void> {
    this.proc.kill()
    await this.proc.exited
  }
}

/** Run `task(i)` for i in [0, n) with at most `limit` running at once. */
async function pool(n: number, limit: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < n) await task(next++)
    }),
  )
}

/** A raw HTTP GET that stays open as an SSE stream; resolves once `ready` matches what arrived. */
function openStream(port: number, path: string, headers: Record<string, string>, ready: RegExp): Promise<{ socket: net.Socket; match: RegExpExecArray; dropped: () => boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1')
    let text = ''
    let settled = false
    let dropped = false
    const extra = Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')
    socket.on('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAccept: text/event-stream\r\n${extra}\r\n`))
    socket.on('data', (chunk: Buffer) => {
      if (settled) return
      text += chunk.toString()
      const match = ready.exec(text)
      if (match) {
        settled = true
        resolve({ socket, match, dropped: () => dropped })
      }
    })
    socket.on('error', (err) => {
      if (!settled) reject(err)
    })
    socket.on('close', () => {
      dropped = true
      if (!settled) reject(new Error(`GET ${path} closed before it was ready: ${text.slice(0, 200)}`))
    })
  })
}

interface Held {
  close(): Promise<void>
  dropped(): boolean
}

async function openStreamable(port: number, i: number): Promise<Held> {
  const base = `http://127.0.0.1:${port}/mcp`
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
  const init = await fetch(base, { method: 'POST', headers, body: JSON.stringify(INIT(i)) })
  await init.arrayBuffer()
  const sessionId = init.headers.get('mcp-session-id')!
  const session = { ...headers, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }
  await (await fetch(base, { method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) })).arrayBuffer()
  // The 2025-11-25 GET stream starts with a priming event (an `id:` line).
  const stream = await openStream(port, '/mcp', { 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }, /\r\n\r\n[\s\S]*id: /)
  return {
    dropped: stream.dropped,
    async close() {
      stream.socket.destroy()
      await (await fetch(base, { method: 'DELETE', headers: session })).arrayBuffer()
    },
  }
}

async function openLegacy(port: number): Promise<Held> {
  const stream = await openStream(port, '/sse', {}, /data: (\/messages\?sessionId=[^\r\n]+)\n/)
  const endpoint = `http://127.0.0.1:${port}${stream.match[1]}`
  const posted = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(INIT(1)) })
  if (posted.status !== 202) throw new Error(`POST ${endpoint} answered ${posted.status}`)
  return {
    dropped: stream.dropped,
    async close() {
      stream.socket.destroy()
    },
  }
}

async function openWebSocket(port: number, i: number): Promise<Held> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/mcp/ws`, 'mcp')
  let dropped = false
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => ws.send(JSON.stringify(INIT(i)))
    ws.onmessage = () => resolve()
    ws.onerror = () => reject(new Error('the WebSocket failed'))
  })
  ws.onclose = () => void (dropped = true)
  return {
    dropped: () => dropped,
    async close() {
      ws.onclose = null
      ws.close()
    },
  }
}

const server = new SoakServer()
afterAll(() => server.stop())

test(
  `${PER_TRANSPORT} idle sessions per transport for ${HOLD_MS / 1000} s, then closed: the server returns to its starting memory (±10%)`,
  async () => {
    const port = await server.port()
    const start = await server.stats()
    console.log(`[soak] start: ${JSON.stringify(start)}`)

    const held: Held[] = []
    const opened = Date.now()
    await Promise.all([
      pool(PER_TRANSPORT, CONCURRENCY, async (i) => void held.push(await openStreamable(port, i))),
      pool(PER_TRANSPORT, CONCURRENCY, async () => void held.push(await openLegacy(port))),
      pool(PER_TRANSPORT, CONCURRENCY, async (i) => void held.push(await openWebSocket(port, i))),
    ])
    const loaded = await server.stats()
    console.log(`[soak] ${held.length} sessions open after ${Date.now() - opened} ms: ${JSON.stringify(loaded)}`)
    expect(loaded.sessions).toBe(3 * PER_TRANSPORT)

    await sleep(HOLD_MS)
    expect(held.filter((h) => h.dropped()).length).toBe(0)
    const holding = await server.stats()
    console.log(`[soak] after the hold: ${JSON.stringify(holding)}`)
    expect(holding.sessions).toBe(3 * PER_TRANSPORT)

    await pool(held.length, CONCURRENCY, async (i) => held[i]!.close())
    // Closing is asynchronous on the server side: wait for the last session to go.
    let end = await server.stats()
    for (let tries = 0; end.sessions > 0 && tries < 50; tries++) {
      await sleep(200)
      end = await server.stats()
    }
    // Give the allocator time to hand freed pages back, then measure again.
    await sleep(5000)
    end = await server.stats()
    console.log(`[soak] end: ${JSON.stringify(end)} (start ${start.rssKiB} KiB, peak ${Math.max(loaded.rssKiB, holding.rssKiB)} KiB)`)
    expect(end.sessions).toBe(0)
    expect(end.logs).toBe(start.logs)
    expect(end.rssKiB).toBeLessThanOrEqual(start.rssKiB * 1.1)
    expect(end.rssKiB).toBeGreaterThanOrEqual(start.rssKiB * 0.9)
  },
  240_000,
)
