/**
 * Driving /mcp/ws without an SDK: `McpSocket` speaks JSON-RPC over a Bun WebSocket (which, unlike a
 * browser, may also send headers), and `upgradeRequest` sends a bare upgrade with fetch so a test
 * can read the HTTP refusal (401, 403) that a WebSocket object would only report as an error.
 */

const INITIALIZE_PARAMS = { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'ws-test', version: '1' } }

export class McpSocket {
  readonly ws: WebSocket
  readonly messages: Record<string, unknown>[] = []
  closed?: { code: number; reason: string }
  #nextId = 1

  constructor(url: string, headers: Record<string, string> = {}) {
    this.ws = new WebSocket(url, { protocols: 'mcp', headers })
    this.ws.addEventListener('message', (e) => void this.messages.push(JSON.parse(String(e.data)) as Record<string, unknown>))
    this.ws.addEventListener('close', (e) => void (this.closed = { code: e.code, reason: e.reason }))
  }

  /** Open a socket and initialize its MCP session. */
  static async connect(url: string, headers: Record<string, string> = {}): Promise<McpSocket> {
    const s = new McpSocket(url, headers)
    await s.opened()
    const init = await s.request('initialize', INITIALIZE_PARAMS)
    if (init.error) throw new Error(`initialize failed: ${JSON.stringify(init.error)}`)
    s.ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))
    return s
  }

  opened(): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ws.readyState === WebSocket.OPEN) return resolve()
      this.ws.addEventListener('open', () => resolve(), { once: true })
      this.ws.addEventListener('error', () => reject(new Error('the WebSocket failed to open')), { once: true })
    })
  }

  /** Send a request and wait for its reply (the whole JSON-RPC response). */
  async request(method: string, params: Record<string, unknown> = {}, ms = 5000): Promise<Record<string, unknown>> {
    const id = `r${this.#nextId++}`
    this.ws.send(JSON.stringify({ jsonrpc: '2.0', id, method, params }))
    const deadline = Date.now() + ms
    for (;;) {
      const reply = this.messages.find((m) => m.id === id)
      if (reply) return reply
      if (this.closed) throw new Error(`the socket closed (${this.closed.code} ${this.closed.reason}) before the reply to ${method}`)
      if (Date.now() > deadline) throw new Error(`no reply to ${method} within ${ms} ms`)
      await Bun.sleep(5)
    }
  }

  async closedWith(ms = 5000): Promise<{ code: number; reason: string }> {
    const deadline = Date.now() + ms
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('the socket did not close')
      await Bun.sleep(10)
    }
    return this.closed
  }

  close(): void {
    this.ws.close()
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
