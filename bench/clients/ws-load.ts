/**
 * WebSocket load generator (target 7 and its ceiling; wrk cannot speak WebSocket). It speaks the
 * protocol itself over `Bun.connect` (RFC 6455 framing, written and parsed by hand) because the
 * WebSocket client class costs more CPU per message than the servers it measures: this keeps the
 * generator off the critical path. Opens N sockets to /mcp/ws (subprotocol `mcp`), initializes
 * each, then keeps exactly one `tools/call` in flight per socket (a closed loop, like wrk's
 * connections) through a warm-up and a measured window.
 * Usage: bun ws-load.ts <ws-url> <sockets> <warmup-s> <measure-s>
 * Prints `MEASURE_START` and `MEASURE_END` when the window opens and closes (the orchestrator reads
 * server CPU at those instants), then `BENCH_JSON {...}`.
 */
import type { Socket } from 'bun'

const [urlArg, socketsArg, warmupArg, measureArg] = process.argv.slice(2)
if (!urlArg) throw new Error('usage: ws-load.ts <ws-url> <sockets> <warmup-s> <measure-s>')
const url = new URL(urlArg)
const sockets = Number(socketsArg ?? 50)
const warmupMs = Number(warmupArg ?? 1) * 1000
const measureMs = Number(measureArg ?? 5) * 1000

const PROTOCOL = '2025-11-25'
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'mcprag-bench-ws', version: '1.0.0' } },
})
const INITIALIZED = JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })
const call = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}`

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const ERROR_BYTES = encoder.encode('"error"')

/** A masked client frame. The mask key is zero (the server XORs with it; the RFC asks clients for a random one, which changes nothing here). */
function frame(opcode: number, payload: Uint8Array): Uint8Array {
  const n = payload.length
  const head = n < 126 ? 2 : n < 65536 ? 4 : 10
  const out = new Uint8Array(head + 4 + n)
  out[0] = 0x80 | opcode
  if (n < 126) out[1] = 0x80 | n
  else if (n < 65536) {
    out[1] = 0x80 | 126
    out[2] = n >> 8
    out[3] = n & 0xff
  } else {
    out[1] = 0x80 | 127
    new DataView(out.buffer).setBigUint64(2, BigInt(n))
  }
  out.set(payload, head + 4)
  return out
}
const text = (s: string) => frame(0x1, encoder.encode(s))

function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer
    return i
  }
  return -1
}

let phase: 'setup' | 'warmup' | 'measure' | 'done' = 'setup'
let messages = 0
let errors = 0
let latencies = new Float64Array(1 << 20)
let nLat = 0
let nextId = 1

function record(us: number): void {
  if (nLat === latencies.length) {
    const bigger = new Float64Array(latencies.length * 2)
    bigger.set(latencies)
    latencies = bigger
  }
  latencies[nLat++] = us
}

interface Conn {
  socket: Socket
  buffer: Uint8Array
  handshaken: boolean
  state: 'initializing' | 'validating' | 'loaded'
  sentAt: number
}

function open(): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64')
    const conn: Conn = { socket: undefined as unknown as Socket, buffer: new Uint8Array(0), handshaken: false, state: 'initializing', sentAt: 0 }
    const send = () => {
      conn.sentAt = performance.now()
      conn.socket.write(text(call(nextId++)))
    }
    const onMessage = (payload: Uint8Array) => {
      if (conn.state === 'loaded') {
        if (phase === 'done') return
        // Notifications (none expected) carry no id and are not answers.
        if (phase === 'measure') {
          messages++
          if (indexOf(payload, ERROR_BYTES) >= 0) errors++
          record((performance.now() - conn.sentAt) * 1000)
        }
        send()
        return
      }
      const data = decoder.decode(payload)
      const msg = JSON.parse(data) as { id?: number; error?: unknown }
      if (msg.id === undefined) return
      if (conn.state === 'initializing') {
        if (msg.error) return reject(new Error(`initialize failed: ${data}`))
        conn.socket.write(text(INITIALIZED))
        conn.state = 'validating'
        send()
      } else if (conn.state === 'validating') {
        if (!data.includes('"text":"hello"')) return reject(new Error(`unexpected tools/call reply: ${data.slice(0, 300)}`))
        conn.state = 'loaded'
        send()
        resolve(conn)
      }
    }
    const parse = () => {
      let b = conn.buffer
      for (;;) {
        if (b.length < 2) break
        const opcode = b[0]! & 0x0f
        let len = b[1]! & 0x7f
        let at = 2
        if (len === 126) {
          if (b.length < 4) break
          len = (b[2]! << 8) | b[3]!
          at = 4
        } else if (len === 127) {
          if (b.length < 10) break
          len = Number(new DataView(b.buffer, b.byteOffset + 2, 8).getBigUint64(0))
          at = 10
        }
        if (b.length < at + len) break
        const payload = b.subarray(at, at + len)
        b = b.subarray(at + len)
        if (opcode === 0x1 || opcode === 0x0) onMessage(payload)
        else if (opcode === 0x9) conn.socket.write(frame(0xa, payload))
        else if (opcode === 0x8) {
          errors++
          reject(new Error(`the server closed the WebSocket (${decoder.decode(payload.subarray(2))})`))
        }
      }
      conn.buffer = b.length ? b.slice() : new Uint8Array(0)
    }
    void Bun.connect({
      hostname: url.hostname,
      port: Number(url.port),
      socket: {
        open: (s) => {
          conn.socket = s
          s.write(
            `GET ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
              `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n\r\n`,
          )
        },
        data: (_s, chunk) => {
          if (conn.buffer.length === 0) conn.buffer = chunk
          else {
            const joined = new Uint8Array(conn.buffer.length + chunk.length)
            joined.set(conn.buffer)
            joined.set(chunk, conn.buffer.length)
            conn.buffer = joined
          }
          if (!conn.handshaken) {
            const end = indexOf(conn.buffer, encoder.encode('\r\n\r\n'))
            if (end < 0) return
            const head = decoder.decode(conn.buffer.subarray(0, end))
            if (!head.startsWith('HTTP/1.1 101')) return reject(new Error(`upgrade refused: ${head.split('\r\n')[0]}`))
            conn.handshaken = true
            conn.buffer = conn.buffer.slice(end + 4)
            conn.socket.write(text(INITIALIZE))
          }
          parse()
        },
        close: () => {
          if (phase !== 'done') reject(new Error('the connection closed'))
        },
        error: (_s, err) => reject(err),
      },
    }).catch(reject)
  })
}

const all = await Promise.all(Array.from({ length: sockets }, open))
phase = 'warmup'
await Bun.sleep(warmupMs)
phase = 'measure'
const started = performance.now()
console.log('MEASURE_START')
await Bun.sleep(measureMs)
phase = 'done'
const durationS = (performance.now() - started) / 1000
console.log('MEASURE_END')
const sorted = latencies.subarray(0, nLat).sort()
const pct = (p: number) => (nLat ? sorted[Math.min(nLat - 1, Math.floor((p / 100) * nLat))]! : 0)
console.log(
  `BENCH_JSON ${JSON.stringify({
    requests: messages,
    duration_s: durationS,
    errors,
    p50: Math.round(pct(50)),
    p90: Math.round(pct(90)),
    p99: Math.round(pct(99)),
    max: Math.round(nLat ? sorted[nLat - 1]! : 0),
  })}`,
)
for (const c of all) c.socket.end()
process.exit(0)
