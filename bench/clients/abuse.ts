/**
 * The attacks of issue 13 (security-probe-2.md), replayed against a running mcprag by one account
 * of tier `public`. Usage: bun abuse.ts <attack> <base-url> <bearer-token>. The client builds its
 * bodies first, prints `READY`, waits for `go` on stdin, runs the attack, and prints
 * `RESULT <json>` (the statuses it got and what it observed) before it exits.
 *
 *   h1           150 × initialize with 2.7 MB of capabilities (the probe's H1)
 *   h1-sessions  3000 × initialize (empty capabilities) plus 150 with 15 KB (within the limit)
 *   h2           a legacy SSE stream, read, and 60 POSTs of a 4 MB unknown method (the probe's H2)
 *   h2-stalled   a legacy SSE stream nobody reads, and 600 echo replies of 100 KB (H2's other run)
 *   h3           4 concurrent REST calls of a 4.19 MB body of unknown keys, 5 times (the probe's H3)
 *   h3-within    the same inside the body limit: 20 × 1 MiB of keys (refused before parsing) and
 *                200 × 4000 unknown keys (validated), 4 at a time
 *   m1           a 2025-03-26 session and one 4 MB batch of 80 000 tools/list (the probe's M1)
 *   m1-within    batches of 100 tools/list until the request budget refuses them
 *   m2           one WebSocket, 50 000 tools/list as fast as it can send (the probe's M2)
 */
import net from 'node:net'

const [attack, base, token] = process.argv.slice(2) as [string, string, string]
if (!attack || !base || !token) throw new Error('usage: abuse.ts <attack> <base-url> <bearer-token>')
const AUTH = { authorization: `Bearer ${token}` }
const JSON_POST = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...AUTH }

const statuses: Record<string, number> = {}
const count = (key: string | number) => void (statuses[String(key)] = (statuses[String(key)] ?? 0) + 1)
const notes: Record<string, unknown> = {}

const initialize = (version: string, capabilities: unknown) =>
  JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: version, capabilities, clientInfo: { name: 'abuse', version: '1' } } })
const randomBase64 = (bytes: number) => Buffer.from(crypto.getRandomValues(new Uint8Array(Math.min(bytes, 65_536)))).toString('base64').repeat(Math.ceil(bytes / 65_536)).slice(0, Math.ceil((bytes * 4) / 3))

/** The probe's wide body: every 1- to 4-character key, until 4.19 MB (or `limit`). */
function wideBody(limit: number): string {
  const a = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
  const out: string[] = []
  let n = 2
  const walk = (prefix: string, depth: number): boolean => {
    for (const c of a) {
      const key = prefix + c
      if (depth === 1) {
        const entry = `"${key}":0`
        if (n + entry.length + 1 > limit) return false
        out.push(entry)
        n += entry.length + 1
      } else if (!walk(key, depth - 1)) return false
    }
    return true
  }
  for (let len = 1; len <= 4; len++) if (!walk('', len)) break
  return `{${out.join(',')}}`
}

async function post(path: string, body: string, headers: Record<string, string> = JSON_POST): Promise<Response> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers, body })
  count(res.status)
  return res
}

/** Build what the attack sends; returns the attack itself. */
async function prepare(): Promise<() => Promise<void>> {
  switch (attack) {
    case 'h1': {
      const body = () => initialize('2025-11-25', { x: randomBase64(2_000_000) })
      const bodies = Array.from({ length: 150 }, body)
      return async () => {
        for (const b of bodies) await (await post('/mcp', b)).arrayBuffer()
      }
    }
    case 'h1-sessions': {
      const empty = initialize('2025-11-25', {})
      const within = initialize('2025-11-25', { x: 'y'.repeat(15_000) })
      return async () => {
        for (let i = 0; i < 3000; i += 30) await Promise.all(Array.from({ length: 30 }, () => post('/mcp', empty).then((r) => r.arrayBuffer())))
        for (let i = 0; i < 150; i++) await (await post('/mcp', within)).arrayBuffer()
      }
    }
    case 'h2': {
      const bodies = Array.from({ length: 60 }, () => `{"jsonrpc":"2.0","id":1,"method":"${randomBase64(3_100_000)}"}`)
      return async () => {
        const stream = await fetch(`${base}/sse`, { headers: { ...AUTH, accept: 'text/event-stream' } })
        const reader = stream.body!.getReader()
        let received = 0
        let text = ''
        const reading = (async () => {
          for (;;) {
            const { done, value } = await reader.read()
            if (done) return
            received += value.byteLength
            if (text.length < 4096) text += new TextDecoder().decode(value)
          }
        })()
        while (!/data: (\/messages\?sessionId=[^\r\n]+)/.test(text)) await Bun.sleep(5)
        const endpoint = `${base}${/data: (\/messages\?sessionId=[^\r\n]+)/.exec(text)![1]}`
        for (const b of bodies) await (await post(endpoint.slice(base.length), b, { 'content-type': 'application/json', ...AUTH })).arrayBuffer()
        await Bun.sleep(500)
        notes.streamBytesReceived = received
        await reader.cancel().catch(() => {})
        await reading.catch(() => {})
      }
    }
    case 'h2-stalled': {
      const echo = (i: number) => JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { text: 'w'.repeat(100_000) } } })
      return async () => {
        const url = new URL(base)
        const socket = net.connect(Number(url.port), url.hostname)
        await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
        socket.write(`GET /sse HTTP/1.1\r\nHost: ${url.host}\r\nAccept: text/event-stream\r\nAuthorization: Bearer ${token}\r\n\r\n`)
        let head = ''
        await new Promise<void>((resolve) => {
          const onData = (d: Buffer) => {
            head += d.toString()
            if (!/data: (\/messages\?sessionId=[^\r\n]+)/.test(head)) return
            socket.off('data', onData)
            socket.pause()
            resolve()
          }
          socket.on('data', onData)
        })
        const path = /data: (\/messages\?sessionId=[^\r\n]+)/.exec(head)![1]!
        for (let i = 0; i < 600; i++) {
          const res = await post(path, echo(i), { 'content-type': 'application/json', ...AUTH })
          await res.arrayBuffer()
          if (res.status === 404) {
            notes.streamClosedAfterReplies = i
            break
          }
        }
        socket.destroy()
      }
    }
    case 'h3': {
      const body = wideBody(4_190_000)
      notes.bodyBytes = body.length
      return async () => {
        for (let round = 0; round < 5; round++) await Promise.all(Array.from({ length: 4 }, () => post('/mcp/tool/echo', body).then((r) => r.arrayBuffer())))
      }
    }
    case 'h3-within': {
      const big = wideBody(1_048_000)
      const keys = `{${Array.from({ length: 4000 }, (_, i) => `"k${i}":0`).join(',')}}`
      return async () => {
        for (let i = 0; i < 20; i += 4) await Promise.all(Array.from({ length: 4 }, () => post('/mcp/tool/echo', big).then((r) => r.arrayBuffer())))
        let largest = 0
        for (let i = 0; i < 200; i += 4)
          await Promise.all(
            Array.from({ length: 4 }, async () => {
              const res = await post('/mcp/tool/echo', keys)
              largest = Math.max(largest, (await res.arrayBuffer()).byteLength)
            }),
          )
        notes.largestAnswerBytes = largest
      }
    }
    case 'm1':
    case 'm1-within': {
      const items = attack === 'm1' ? 80_000 : 100
      const batch = `[${Array.from({ length: items }, (_, i) => `{"jsonrpc":"2.0","id":${i},"method":"tools/list"}`).join(',')}]`
      return async () => {
        const init = await post('/mcp', initialize('2025-03-26', {}))
        const session = init.headers.get('mcp-session-id')!
        const headers = { ...JSON_POST, 'mcp-session-id': session }
        const rounds = attack === 'm1' ? 3 : 80
        for (let i = 0; i < rounds; i++) await (await post('/mcp', batch, headers)).arrayBuffer()
      }
    }
    case 'm2': {
      const frames = Array.from({ length: 50_000 }, (_, i) => `{"jsonrpc":"2.0","id":${i + 1},"method":"tools/list"}`)
      return async () => {
        const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/mcp/ws`, { headers: AUTH } as unknown as string[])
        let answered = 0
        let refused = 0
        const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.addEventListener('close', (e) => resolve({ code: e.code, reason: e.reason })))
        ws.addEventListener('message', (e) => {
          const m = JSON.parse(String(e.data)) as { result?: unknown; error?: { code: number } }
          if (m.result) answered++
          else if (m.error?.code === -32029) refused++
        })
        await new Promise((resolve) => ws.addEventListener('open', resolve))
        ws.send(initialize('2025-11-25', {}))
        for (const f of frames) ws.send(f)
        const close = await Promise.race([closed, Bun.sleep(20_000).then(() => undefined)])
        notes.answered = answered
        notes.refused = refused
        notes.closed = close ?? 'still open after 20 s'
        ws.close()
      }
    }
    default:
      throw new Error(`unknown attack ${attack}`)
  }
}

const run = await prepare()
console.log('READY')
for await (const line of console) if (line.trim() === 'go') break
const t0 = performance.now()
await run()
console.log(`RESULT ${JSON.stringify({ statuses, notes, seconds: (performance.now() - t0) / 1000 })}`)
process.exit(0)
