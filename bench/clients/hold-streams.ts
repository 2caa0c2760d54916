/**
 * Idle-connection holder for the memory benchmark. It opens MCP sessions with one long-lived
 * connection each and keeps them open, idle, until told to exit:
 *   streamable  initialize + notifications/initialized over POST /mcp, then GET /mcp (the session's
 *               standalone SSE stream), held open on a raw TCP socket;
 *   sse         legacy HTTP+SSE: GET /sse until the `endpoint` event;
 *   ws          WebSocket /mcp/ws (subprotocol `mcp`), initialize + notifications/initialized.
 * Usage: bun hold-streams.ts <mode> <base-url>; then on stdin `open <total>` (answers
 * `opened <total> <failures>`) and `exit`.
 */
import type { Socket } from 'bun'

type Mode = 'streamable' | 'sse' | 'ws'
const mode = process.argv[2] as Mode
const base = new URL(process.argv[3] ?? 'http://127.0.0.1:3000')
if (!['streamable', 'sse', 'ws'].includes(mode)) throw new Error('usage: hold-streams.ts streamable|sse|ws <base-url>')

const PROTOCOL = '2025-11-25'
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'mcprag-bench-holder', version: '1.0.0' } },
})
const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })
const POST_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }
const CONCURRENCY = 32

const held: { close(): void }[] = []
let failures = 0
let firstError = ''

/** Open a raw TCP connection, send `request`, resolve once the response headers and `until` arrived. */
function rawHold(request: string, until: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    let buffer = ''
    let done = false
    const finish = (err?: Error, socket?: Socket) => {
      if (done) return
      done = true
      buffer = ''
      if (err) reject(err)
      else resolve(socket!)
    }
    void Bun.connect({
      hostname: base.hostname,
      port: Number(base.port),
      socket: {
        open: (s) => void s.write(request),
        data: (s, chunk) => {
          if (done) return // idle traffic (keep-alive comments) is read and dropped
          buffer += chunk.toString()
          const headerEnd = buffer.indexOf('\r\n\r\n')
          if (headerEnd < 0) return
          if (!buffer.startsWith('HTTP/1.1 200')) return finish(new Error(buffer.split('\r\n')[0]))
          if (buffer.includes(until, headerEnd)) finish(undefined, s)
        },
        close: () => finish(new Error('closed before the stream opened')),
        error: (_s, err) => finish(err),
      },
    }).catch((err: Error) => finish(err))
  })
}

async function openStreamable(): Promise<{ close(): void }> {
  const url = new URL('/mcp', base)
  const init = await fetch(url, { method: 'POST', headers: POST_HEADERS, body: INITIALIZE })
  const session = init.headers.get('mcp-session-id')
  await init.arrayBuffer()
  if (init.status !== 200 || !session) throw new Error(`initialize answered ${init.status}`)
  const headers = { ...POST_HEADERS, 'mcp-session-id': session, 'mcp-protocol-version': PROTOCOL }
  const ack = await fetch(url, { method: 'POST', headers, body: INITIALIZED })
  await ack.arrayBuffer()
  const request =
    `GET /mcp HTTP/1.1\r\nHost: ${base.host}\r\nAccept: text/event-stream\r\n` +
    `Mcp-Session-Id: ${session}\r\nMcp-Protocol-Version: ${PROTOCOL}\r\n\r\n`
  // The priming event (an `id:` line) arrives as soon as the stream is open.
  const socket = await rawHold(request, '\n\n')
  return { close: () => socket.end() }
}

async function openSse(): Promise<{ close(): void }> {
  const request = `GET /sse HTTP/1.1\r\nHost: ${base.host}\r\nAccept: text/event-stream\r\n\r\n`
  const socket = await rawHold(request, 'event: endpoint')
  return { close: () => socket.end() }
}

function openWs(): Promise<{ close(): void }> {
  const url = new URL('/mcp/ws', base)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, 'mcp')
    let ready = false
    ws.onopen = () => ws.send(INITIALIZE)
    ws.onmessage = (e) => {
      if (ready) return
      const msg = JSON.parse(String(e.data)) as { id?: number; error?: unknown }
      if (msg.id !== 0) return
      if (msg.error) return reject(new Error(`initialize failed: ${JSON.stringify(msg.error)}`))
      ws.send(INITIALIZED)
      ready = true
      resolve({ close: () => ws.close() })
    }
    ws.onerror = () => reject(new Error('WebSocket error'))
    ws.onclose = (e) => {
      if (!ready) reject(new Error(`WebSocket closed (${e.code})`))
    }
  })
}

const openOne = mode === 'streamable' ? openStreamable : mode === 'sse' ? openSse : openWs

async function openUpTo(total: number): Promise<void> {
  let next = held.length
  const worker = async () => {
    while (next < total && failures < 100) {
      next++
      try {
        held.push(await openOne())
      } catch (err) {
        failures++
        firstError ||= (err as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
}

for await (const line of console) {
  const [cmd, arg] = line.trim().split(/\s+/)
  if (cmd === 'open') {
    await openUpTo(Number(arg))
    console.log(`opened ${held.length} ${failures}${firstError ? ` ${firstError}` : ''}`)
  } else if (cmd === 'exit') {
    for (const h of held) h.close()
    process.exit(0)
  }
}
