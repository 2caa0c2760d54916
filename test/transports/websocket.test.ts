/**
 * WebSocket wire rules (mcp-spec.md §4), checked with raw sockets: subprotocol selection, frame
 * types and sizes, parse errors, the session's lifetime, Origin on the upgrade, pings, and the
 * bounded send queue for a client that stops reading.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import net from 'node:net'
import { registerContractTools, WHOAMI_TOOL } from '../_utils/contract-tools.ts'
import { modernRequest } from '../_utils/modern.ts'
import { startTestServer } from '../_utils/server.ts'
import { until } from '../_utils/wait.ts'
import { upgradeRequest, WsPeer } from '../_utils/ws.ts'

const INIT = {
  jsonrpc: '2.0',
  id: 0,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
}

let server: Awaited<ReturnType<typeof startTestServer>>
let wsUrl: string
beforeAll(async () => {
  server = await startTestServer({ MCPRAG_MAX_BODY_BYTES: '4096', MCPRAG_WS_MAX_BUFFERED_BYTES: '65536', MCPRAG_WS_IDLE_TIMEOUT_S: '8', MCPRAG_ALLOWED_ORIGINS: 'http://localhost:*' })
  registerContractTools(server.registry)
  wsUrl = `${server.url.replace('http', 'ws')}/mcp/ws`
})
afterAll(() => server.stop())

async function session(peer: WsPeer): Promise<string> {
  await initialized(peer)
  peer.send({ jsonrpc: '2.0', id: 'who', method: 'tools/call', params: { name: WHOAMI_TOOL, arguments: {} } })
  const reply = await peer.reply('who')
  return ((reply.result as { content: { text: string }[] }).content[0]!).text
}

async function initialized(peer: WsPeer): Promise<void> {
  peer.send(INIT)
  await peer.reply(0)
  peer.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
}

describe('the handshake', () => {
  test('the server selects subprotocol mcp when offered, and none when not', async () => {
    const offered = new WsPeer(wsUrl, 'mcp')
    await offered.opened()
    expect(offered.ws.protocol).toBe('mcp')
    const among = new WsPeer(wsUrl, ['chat', 'mcp'])
    await among.opened()
    expect(among.ws.protocol).toBe('mcp')
    const none = new WsPeer(wsUrl)
    await none.opened()
    expect(none.ws.protocol).toBe('')
    for (const p of [offered, among, none]) p.ws.close()
  })

  test('a foreign Origin is refused with 403 before the upgrade (cross-site WebSocket hijacking)', async () => {
    const response = await upgradeRequest(wsUrl, { origin: 'https://evil.example' })
    expect(response.status).toBe(403)
    expect(await response.json()).toMatchObject({ error: { message: expect.stringContaining('Origin') } })
  })

  test('an allowed browser Origin upgrades', async () => {
    // Bun's client can set the header a browser would send.
    const browser = new WebSocket(wsUrl, { protocols: 'mcp', headers: { origin: 'http://localhost:5173' } })
    await new Promise((resolve, reject) => {
      browser.onopen = resolve
      browser.onerror = reject
    })
    expect(browser.protocol).toBe('mcp')
    browser.close()
  })
})

describe('frames', () => {
  test('one JSON-RPC message per text frame; invalid JSON is -32700 and the socket stays open', async () => {
    const peer = new WsPeer(wsUrl, 'mcp')
    await peer.opened()
    peer.send('{"jsonrpc": "2.0", "id": ')
    await until(() => peer.messages.length === 1, 5000, 'the parse error')
    expect(peer.messages[0]).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } })
    peer.send([{ jsonrpc: '2.0', id: 1, method: 'ping' }])
    await until(() => peer.messages.length === 2, 5000, 'the batch refusal')
    expect(peer.messages[1]).toMatchObject({ id: null, error: { code: -32600 } })
    peer.send({ id: 2, method: 'ping' })
    expect(await peer.reply(2)).toMatchObject({ error: { code: -32600 } })
    // Leading whitespace is still JSON.
    peer.send(`  ${JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'ping' })}`)
    expect(await peer.reply(3)).toMatchObject({ result: {} })
    expect(peer.closed).toBeUndefined()
    peer.ws.close()
  })

  test('a binary frame closes the socket with 1003', async () => {
    const peer = new WsPeer(wsUrl, 'mcp')
    await peer.opened()
    peer.ws.send(new Uint8Array([0x7b, 0x7d]))
    expect((await peer.closedWith()).code).toBe(1003)
  })

  test('a frame over the size limit closes the socket with 1009', async () => {
    const peer = new WsPeer(wsUrl, 'mcp')
    await peer.opened()
    peer.send({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x'.repeat(5000) } } })
    expect((await peer.closedWith()).code).toBe(1009)
  })
})

describe('the session', () => {
  test('before initialize only ping is answered; initialize creates the session once', async () => {
    const peer = new WsPeer(wsUrl, 'mcp')
    await peer.opened()
    peer.send({ jsonrpc: '2.0', id: 1, method: 'ping' })
    expect(await peer.reply(1)).toMatchObject({ result: {} })
    peer.send({ jsonrpc: '2.0', id: 2, method: 'tools/list' })
    expect(await peer.reply(2)).toMatchObject({ error: { code: -32600, message: expect.stringContaining('initialize') } })
    peer.send(INIT)
    expect(await peer.reply(0)).toMatchObject({ result: { protocolVersion: '2025-11-25', serverInfo: { name: 'mcprag' } } })
    peer.send({ ...INIT, id: 3 })
    expect(await peer.reply(3)).toMatchObject({ error: { code: -32600 } })
    peer.ws.close()
  })

  test('the socket stays on the 2025 revisions: a message carrying the 2026-07-28 envelope is served by its session', async () => {
    const peer = new WsPeer(wsUrl, 'mcp')
    await peer.opened()
    await session(peer)
    const { body } = modernRequest('tools/call', { name: 'echo', arguments: { text: 'still 2025' } }, { id: 'm' })
    peer.send(body)
    expect(await peer.reply('m')).toEqual({ jsonrpc: '2.0', id: 'm', result: { content: [{ type: 'text', text: 'still 2025' }] } })
    peer.send(modernRequest('server/discover', {}, { id: 'd' }).body)
    expect(await peer.reply('d')).toMatchObject({ error: { code: -32601 } })
    peer.ws.close()
  })

  test('closing the socket ends its session', async () => {
    const peer = new WsPeer(wsUrl, 'mcp')
    await peer.opened()
    const id = await session(peer)
    expect(await server.stores.sessions.get(id)).toBeDefined()
    peer.ws.close()
    await until(async () => (await server.stores.sessions.get(id)) === undefined, 5000, 'the session to end')
  })

  test('the server answers pings and pings a quiet client, which stays connected past the idle timeout', async () => {
    const peer = new WsPeer(wsUrl, 'mcp')
    await peer.opened()
    await session(peer)
    let pongs = 0
    peer.ws.addEventListener('pong' as 'open', () => void pongs++)
    ;(peer.ws as unknown as { ping(): void }).ping()
    await until(() => pongs === 1, 5000, 'the pong')
    // The idle timeout is 8 s here: Bun pings before it runs out, the client pongs, and the
    // socket outlives it although the client sends nothing for 10 s.
    const quietSince = Date.now()
    await until(() => peer.pings > 0, 15_000, 'a ping from the server')
    await new Promise((r) => setTimeout(r, Math.max(0, 10_000 - (Date.now() - quietSince))))
    expect(peer.closed).toBeUndefined()
    peer.send({ jsonrpc: '2.0', id: 'after', method: 'ping' })
    expect(await peer.reply('after')).toMatchObject({ result: {} })
    peer.ws.close()
  }, 30_000)
})

describe('backpressure', () => {
  test('a client that stops reading is closed once its queue passes the limit, and its session ends', async () => {
    const socket = net.connect(server.port, '127.0.0.1')
    const frames = new FrameReader()
    socket.on('data', (chunk: Buffer) => frames.push(chunk))
    // The server hangs up on this client mid-write; that is the point, not a failure.
    socket.on('error', () => {})
    await new Promise((r) => socket.once('connect', r))
    socket.write(
      `GET /mcp/ws HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mcp\r\n\r\n',
    )
    await until(() => frames.handshake !== undefined, 5000, 'the 101 response')
    expect(frames.handshake).toContain('101')
    socket.write(maskedText(JSON.stringify(INIT)))
    socket.write(maskedText(JSON.stringify({ jsonrpc: '2.0', id: 'who', method: 'tools/call', params: { name: WHOAMI_TOOL, arguments: {} } })))
    await until(() => frames.texts.length === 2, 5000, 'the replies to initialize and whoami')
    const id = (JSON.parse(frames.texts[1]!) as { result: { content: { text: string }[] } }).result.content[0]!.text
    expect(await server.stores.sessions.get(id)).toBeDefined()

    // Stop reading, then ask for ~12 MB of echoes: more than the kernel's socket buffers hold,
    // so the server's own queue fills up to its 64 KiB limit.
    socket.pause()
    const text = 'y'.repeat(3000)
    for (let i = 1; i <= 4000; i++) {
      socket.write(maskedText(JSON.stringify({ jsonrpc: '2.0', id: i, method: 'tools/call', params: { name: 'echo', arguments: { text } } })))
    }
    await until(async () => (await server.stores.sessions.get(id)) === undefined, 20_000, 'the server to drop the session of the client that does not read')
    socket.destroy()
  }, 30_000)
})

describe('a flood of messages', () => {
  test('what arrives faster than it is handled waits, in order; past MCPRAG_WS_MAX_WAITING_BYTES the socket is closed with 1008', async () => {
    const paced = await startTestServer({ MCPRAG_WS_MAX_WAITING_BYTES: '65536' })
    // 1 ms of synchronous work per call: a read that brings more than a few calls outlasts the
    // 4 ms slice of its turn, whatever the machine's speed, so the rest must wait.
    paced.registry.tool({
      name: 'busy',
      description: 'Works 1 ms without yielding',
      handler: () => {
        const until = performance.now() + 1
        while (performance.now() < until);
        return { content: [{ type: 'text', text: 'done' }] }
      },
    })
    const call = (id: number) => `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"busy","arguments":{}}}`
    const answered = (peer: WsPeer) => peer.messages.filter((m) => typeof m.id === 'number' && m.id > 0)
    try {
      const url = `${paced.url.replace('http', 'ws')}/mcp/ws`
      // 300 calls in one burst (≈ 25 KB, less than may wait): each is answered, in the order sent.
      const steady = new WsPeer(url, 'mcp')
      await steady.opened()
      await initialized(steady)
      for (let i = 1; i <= 300; i++) steady.send(call(i))
      await until(() => answered(steady).length === 300, 20_000, 'every reply of the burst')
      expect(answered(steady).map((m) => m.id)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1))
      expect(steady.closed).toBeUndefined()
      steady.close()

      // 5,000 (≈ 420 KB, 5 s of work) at once: more than 64 KiB waits, so the server hangs up instead.
      const flood = new WsPeer(url, 'mcp')
      await flood.opened()
      await initialized(flood)
      for (let i = 1; i <= 5000; i++) flood.send(call(i))
      const closed = await flood.closedWith(20_000)
      expect(closed).toEqual({ code: 1008, reason: expect.stringContaining('waiting for an answer') })
      expect(answered(flood).length).toBeLessThan(5000)
    } finally {
      await paced.stop()
    }
  }, 60_000)
})

/** A client frame: text, FIN, masked (RFC 6455 §5.3), with a 16-bit length when needed. */
function maskedText(text: string): Buffer {
  const payload = Buffer.from(text)
  const mask = Buffer.from([0x12, 0x34, 0x56, 0x78])
  const header =
    payload.length < 126
      ? Buffer.from([0x81, 0x80 | payload.length])
      : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff])
  return Buffer.concat([header, mask, Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!))])
}

/** Reads the 101 response, then unmasked server text frames. */
class FrameReader {
  handshake?: string
  readonly texts: string[] = []
  #buffer = Buffer.alloc(0)

  push(chunk: Buffer): void {
    this.#buffer = Buffer.concat([this.#buffer, chunk])
    if (this.handshake === undefined) {
      const end = this.#buffer.indexOf('\r\n\r\n')
      if (end === -1) return
      this.handshake = this.#buffer.subarray(0, end).toString()
      this.#buffer = this.#buffer.subarray(end + 4)
    }
    for (;;) {
      if (this.#buffer.length < 2) return
      let length = this.#buffer[1]! & 0x7f
      let offset = 2
      if (length === 126) {
        if (this.#buffer.length < 4) return
        length = this.#buffer.readUInt16BE(2)
        offset = 4
      } else if (length === 127) {
        if (this.#buffer.length < 10) return
        length = Number(this.#buffer.readBigUInt64BE(2))
        offset = 10
      }
      if (this.#buffer.length < offset + length) return
      if ((this.#buffer[0]! & 0x0f) === 1) this.texts.push(this.#buffer.subarray(offset, offset + length).toString())
      this.#buffer = this.#buffer.subarray(offset + length)
    }
  }
}
