/**
 * @module oauth/ip-policy
 * Whether an IP address is on the public internet, for outbound fetches the server makes on a
 * client's behalf (Client ID Metadata Documents): never loopback, private, link-local (cloud
 * metadata at 169.254.169.254), carrier-grade NAT, multicast, reserved, unique-local IPv6, or an
 * IPv4 address hidden in IPv6 (mapped, NAT64, 6to4) that is one of those. Pure.
 */
import { isIPv4, isIPv6 } from 'node:net'

/** [first octets as a 32-bit number, prefix length] of IPv4 ranges that are not public. */
const V4_BLOCKED: [string, number][] = [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
]

const v4ToInt = (ip: string) => ip.split('.').reduce((n, part) => (n << 8) + Number(part), 0) >>> 0

function v4Public(ip: string): boolean {
  const n = v4ToInt(ip)
  return !V4_BLOCKED.some(([base, bits]) => (n >>> (32 - bits)) === (v4ToInt(base) >>> (32 - bits)))
}

/** The eight 16-bit groups of an IPv6 address (with an embedded dotted IPv4 tail expanded). */
function v6Groups(ip: string): number[] {
  let s = ip.toLowerCase().split('%')[0]!
  const tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(s)
  if (tail) {
    const n = v4ToInt(tail[1]!)
    s = s.slice(0, -tail[1]!.length) + `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`
  }
  const [head, rest] = s.split('::') as [string, string | undefined]
  const h = head ? head.split(':') : []
  const r = rest ? rest.split(':') : []
  const fill = rest === undefined ? [] : Array(8 - h.length - r.length).fill('0')
  return [...h, ...fill, ...r].map((g) => parseInt(g || '0', 16))
}

const groupsToV4 = (a: number, b: number) => `${a >>> 8}.${a & 0xff}.${b >>> 8}.${b & 0xff}`

function v6Public(ip: string): boolean {
  const g = v6Groups(ip)
  if (g.length !== 8) return false
  if (g.every((x) => x === 0)) return false // ::
  if (g.slice(0, 7).every((x) => x === 0) && g[7] === 1) return false // ::1
  if (g.slice(0, 5).every((x) => x === 0) && (g[5] === 0xffff || g[5] === 0)) return v4Public(groupsToV4(g[6]!, g[7]!)) // ::ffff:a.b.c.d, ::a.b.c.d
  if (g[0] === 0x64 && g[1] === 0xff9b) return v4Public(groupsToV4(g[6]!, g[7]!)) // NAT64
  if (g[0] === 0x2002) return v4Public(groupsToV4(g[1]!, g[2]!)) // 6to4
  if ((g[0]! & 0xfe00) === 0xfc00) return false // fc00::/7 unique local
  if ((g[0]! & 0xffc0) === 0xfe80) return false // fe80::/10 link-local
  if ((g[0]! & 0xff00) === 0xff00) return false // multicast
  if (g[0] === 0x2001 && g[1] === 0xdb8) return false // documentation
  if (g[0] === 0x100 && g.slice(1, 4).every((x) => x === 0)) return false // discard-only
  return true
}

export function isPublicAddress(ip: string): boolean {
  if (isIPv4(ip)) return v4Public(ip)
  if (isIPv6(ip)) return v6Public(ip)
  return false
}
