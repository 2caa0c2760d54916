/**
 * @module transports/client-address
 * The network address of the client behind a request, for rate limits and audit. Bun knows the
 * socket's peer only through the server object, so the app records it per request when the
 * request arrives. `X-Forwarded-For` is ignored unless `MCPRAG_TRUSTED_PROXIES` says how many
 * proxies in front of the server append to it; then the entry that many places from the right
 * is the client (entries further left are whatever the client chose to send).
 */
interface PeerSource {
  requestIP(request: Request): { address: string } | null
}

export class ClientAddresses {
  readonly #peers = new WeakMap<Request, string>()
  readonly #trustedProxies: number

  constructor(trustedProxies: number) {
    this.#trustedProxies = trustedProxies
  }

  /** Record the socket peer of a request (call from the app's onRequest hook). */
  remember(request: Request, server: PeerSource | null | undefined): void {
    const peer = server?.requestIP(request)?.address
    // IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d.
    if (peer) this.#peers.set(request, peer.startsWith('::ffff:') && peer.includes('.') ? peer.slice(7) : peer)
  }

  of(request: Request): string {
    const peer = this.#peers.get(request) ?? 'unknown'
    if (this.#trustedProxies === 0) return peer
    const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    return forwarded[forwarded.length - this.#trustedProxies] ?? peer
  }
}
