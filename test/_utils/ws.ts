/**
 * Driving /mcp/ws without an SDK: `WsPeer` is a bare Bun WebSocket (which, unlike a browser, may
 * also send headers) that keeps what it receives, `McpSocket` adds an initialized MCP session and
 * request/reply, and `upgradeRequest` sends a bare upgrade with fetch so a test can read the HTTP
 * refusal (401, 403) that a WebSocket object would only report as an error.
 */
import { until } from './wait.ts'

const INITIALIZE_PARAMS = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ws-test', version: '1' } }

/** A Bun WebSocket that keeps every message, its close event and a count of the server's pings. */
export class WsPeer {
  readonly ws: WebSocket
  readonly messages: Record<string, unknown>[] = []
  closed?: { code: number; reason: string }
  pings = 0

  /** `protocols` undefined offers no subprotocol at all (the server must then select none). */
  constructor(url: string, protocols?: string | string[], headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { protocols, headers })
    this.ws.addEventListener('message', (e) => void this.messages.push(JSON.parse(String(e.data)) as Record<string, unknown>))
    this.ws.addEventListener('close', (e) => void (this.closed = { code: e.code, reason: e.reason }))
    // Bun's client reports the server's pings (it has already answered them with a pong).
    this.ws.addEventListener('ping' as 'open', () => void this.pings++)
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve()
      this.ws.addEventListener('open', () => resolve(), { once: true })
      this.ws.addEventListener('error', () => reject(new Error('the WebSocket failed to open')), { once: true })
    })
  }

  /** Send one text frame: `message` serialised unless already a string. */
  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** The message with JSON-RPC id `id`, once it has arrived. */
  async reply(id: unknown, ms = 5000): Promise<Record<string, unknown>> {
    await until(() => this.messages.some((m) => m.id === id), ms, `the reply to ${String(id)}`)
    return this.messages.find((m) => m.id === id)!
  }

  async closedWith(ms = 5000): Promise<{ code: number; reason: string }> {
    await until(() => this.closed !== undefined, ms, 'the socket to close')
    return this.closed!
  }

  close(): void {
    this.ws.close()
  }
}

/** A peer speaking subprotocol `mcp` with an MCP session: requests get ids and wait for replies. */
export class McpSocket extends WsPeer {
  #nextId = 1

  constructor(url: string, headers: Record<string, string> = {}) {
    super(url, 'mcp', headers)
  }

  /** Open a socket and initialize its MCP session. */
  static async connect(url: string, headers: Record<string, string> = {}): Promise<McpSocket> {
    const s = new McpSocket(url, headers)
    await s.opened()
    const init = await s.request('initialize', INITIALIZE_PARAMS)
    if (init.error) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`)
    s.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    return s
  }

  /** Send a request and wait for its reply (the whole JSON-RPC response); fails at once if the socket closes. */
  async request(method: string, params: Record<string, unknown> = {}, ms = 5000): Promise<Record<string, unknown>> {
    const id = `r${this.#nextId++}`
    this.send({ jsonrpc: '2.0', id, method, params })
    const deadline = Date.now() + ms
    for (;;) {
      const reply = this.messages.find((m) => m.id === id)
      if (reply) return reply
      if (this.closed) throw new Error(`the socket closed (${this.closed.code} ${this.closed.reason}) before the reply to ${method}`)
      if (Date.now() > deadline) throw new Error(`no reply to ${method} within ${ms} ms`)
      await Bun.sleep(5)
    }
  }
}

/** A WebSocket upgrade request sent with fetch: the answer of a refused upgrade is readable. */
export function upgradeRequest(url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url.replace(/^ws/, 'http'), {
    headers: {
      upgrade: 'websocket',
      connection: 'Upgrade',
      'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'sec-websocket-version': '13',
      'sec-websocket-protocol': 'mcp',
      ...headers,
    },
  })
}
