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
 *
 * An IPv6 client is its network, not its address: a host with a routed /64 (every home line has
 * one, and privacy extensions rotate addresses within it daily) could otherwise take a fresh
 * budget per address. Addresses are grouped by `ipv6PrefixLength` (64 by default; 128 keeps each
 * address) wherever "client address" is used: budgets, connection and session limits, audit.
 */
export interface PeerSource {
  requestIP(request: Request): { address: string } | null
}

export class ClientAddresses {
  readonly #peers = new WeakMap<Request, string>()
  readonly #trustedProxies: number
  readonly #ipv6PrefixLength: number
  #server: PeerSource | undefined

  constructor(trustedProxies: number, ipv6PrefixLength = 64) {
    this.#trustedProxies = trustedProxies
    this.#ipv6PrefixLength = ipv6PrefixLength
  }

  /** The listening server, which knows each request's socket peer (call once it listens). */
  attach(server: PeerSource): void {
    this.#server = server
  }

  /** The client behind `request`: an IPv4 address, or an IPv6 network (`2001:db8:1:2::/64`). */
  of(request: Request): string {
    if (this.#trustedProxies === 0) return this.#peer(request)
    const forwarded = (request.headers.get('x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    const entry = forwarded[forwarded.length - this.#trustedProxies]
    return entry === undefined ? this.#peer(request) : clientOf(unmapped(entry), this.#ipv6PrefixLength)
  }

  #peer(request: Request): string {
    let peer = this.#peers.get(request)
    if (peer === undefined) {
      const address = this.#server?.requestIP(request)?.address
      peer = !address ? 'unknown' : clientOf(unmapped(address), this.#ipv6PrefixLength)
      this.#peers.set(request, peer)
    }
    return peer
  }
}

/** IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d. */
const unmapped = (address: string) => (address.toLowerCase().startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address)

/**
 * The client an address stands for: an IPv4 address (or anything that is no IPv6 address) as it
 * is; an IPv6 address as its network of `prefixLength` bits, `network/prefixLength` in the RFC
 * 5952 form (the address itself at 128).
 */
export function clientOf(address: string, prefixLength: number): string {
  const groups = ipv6Groups(address)
  if (!groups) return address
  for (let i = 0; i < 8; i++) {
    const keep = Math.max(0, Math.min(16, prefixLength - i * 16))
    groups[i] = groups[i]! & (keep === 0 ? 0 : (0xffff << (16 - keep)) & 0xffff)
  }
  const text = formatIpv6(groups)
  return prefixLength >= 128 ? text : `${text}/${prefixLength}`
}

/** The eight 16-bit groups of an IPv6 address (zone and brackets dropped), or undefined. */
function ipv6Groups(address: string): number[] | undefined {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '').toLowerCase()
  if (!bare.includes(':')) return undefined
  const halves = bare.split('::')
  if (halves.length > 2) return undefined
  const parse = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    const pieces = part.split(':')
    for (let i = 0; i < pieces.length; i++) {
      const p = pieces[i]!
      if (i === pieces.length - 1 && p.includes('.')) {
        const v4 = p.split('.').map(Number)
        if (v4.length !== 4 || v4.some((n) => !Number.isInteger(n) || n < 0 || n > 255)) return undefined
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else if (/^[0-9a-f]{1,4}$/.test(p)) out.push(parseInt(p, 16))
      else return undefined
    }
    return out
  }
  const head = parse(halves[0]!)
  const tail = halves.length === 2 ? parse(halves[1]!) : []
  if (!head || !tail) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined
  return [...head, ...Array<number>(missing).fill(0), ...tail]
}

/** RFC 5952: lower-case hex, the longest run of two or more zero groups as `::`. */
function formatIpv6(groups: number[]): string {
  let best = -1
  let bestLength = 1
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++
      continue
    }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLength) [best, bestLength] = [i, j - i]
    i = j
  }
  const hex = groups.map((g) => g.toString(16))
  if (best === -1) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLength).join(':')}`
}
