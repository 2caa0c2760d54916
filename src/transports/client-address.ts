/**
 * @module transports/client-address
 * The network address of the client behind a request, for rate limits and audit. Bun knows the
 * socket's peer only through the server object (`server.requestIP`, while the request is being
 * answered), so the composition root hands the server over once it listens, and the address is
 * looked up only when a rate limit or an audit record asks for it (never with authentication
 * off), then remembered for that request. `X-Forwarded-For` is ignored unless
 * `MCPRAG_TRUSTED_PROXIES` says how many proxies in front of the server append to it; then the
 * entry that many places from the right is the client (entries further left are whatever the
 * client chose to send).
 */
export interface PeerSource {
  requestIP(request: Request): { address: string } | null
}

export class ClientAddresses {
  readonly #peers = new WeakMap<Request, string>()
  readonly #trustedProxies: number
  #server: PeerSource | undefined

  constructor(trustedProxies: number) {
    this.#trustedProxies = trustedProxies
  }

  /** The listening server, which knows each request's socket peer (call once it listens). */
  attach(server: PeerSource): void {
    this.#server = server
  }

  of(request: Request): string {
    if (this.#trustedProxies === 0) return this.#peer(request)
    const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    return forwarded[forwarded.length - this.#trustedProxies] ?? this.#peer(request)
  }

  #peer(request: Request): string {
    let peer = this.#peers.get(request)
    if (peer === undefined) {
      const address = this.#server?.requestIP(request)?.address
      // IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d.
      peer = !address ? 'unknown' : address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
      this.#peers.set(request, peer)
    }
    return peer
  }
}
