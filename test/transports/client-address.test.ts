/**
 * Client addresses are looked up lazily: only when a rate limit or an audit record asks (never with
 * authentication off), once per request, from the server that knows the socket's peer.
 * `X-Forwarded-For` counts only with trusted proxies (T-D6).
 */
import { expect, test } from 'bun:test'
import { ClientAddresses, type PeerSource } from '../../src/transports/client-address.ts'

function peers(address: string | null): PeerSource & { lookups: number } {
  const source = {
    lookups: 0,
    requestIP() {
      source.lookups++
      return address === null ? null : { address }
    },
  }
  return source
}

const request = (headers: Record<string, string> = {}) => new Request('http://127.0.0.1/mcp', { headers })

test('the peer is asked for only when an address is wanted, once per request', () => {
  const server = peers('::ffff:192.0.2.7')
  const addresses = new ClientAddresses(0)
  addresses.attach(server)
  const r = request({ 'x-forwarded-for': '203.0.113.9' })
  expect(server.lookups).toBe(0)
  expect(addresses.of(r)).toBe('192.0.2.7')
  expect(addresses.of(r)).toBe('192.0.2.7')
  expect(server.lookups).toBe(1)
  expect(addresses.of(request())).toBe('192.0.2.7')
  expect(server.lookups).toBe(2)
})

test('an IPv6 client is its /64 (issue 13, L7), or the configured prefix; a peer Bun no longer knows is "unknown"', () => {
  const v6 = new ClientAddresses(0)
  v6.attach(peers('2001:db8:0:7:a:b:c:d'))
  expect(v6.of(request())).toBe('2001:db8:0:7::/64')
  const whole = new ClientAddresses(0, 128)
  whole.attach(peers('2001:DB8:0:7:0:0:0:1'))
  expect(whole.of(request())).toBe('2001:db8:0:7::1')
  const forwarded = new ClientAddresses(1, 56)
  forwarded.attach(peers('10.0.0.2'))
  expect(forwarded.of(request({ 'x-forwarded-for': '2001:db8:0:7ff:1::2' }))).toBe('2001:db8:0:700::/56')
  expect(forwarded.of(request({ 'x-forwarded-for': '198.51.100.4' }))).toBe('198.51.100.4')
  const gone = new ClientAddresses(0)
  gone.attach(peers(null))
  expect(gone.of(request())).toBe('unknown')
})

test('with trusted proxies the entry that many places from the right of X-Forwarded-For is the client', () => {
  const addresses = new ClientAddresses(1)
  const proxy = peers('10.0.0.2')
  addresses.attach(proxy)
  expect(addresses.of(request({ 'x-forwarded-for': 'spoofed, 198.51.100.4' }))).toBe('198.51.100.4')
  // The socket peer (the proxy) is asked for only when the header does not name the client.
  expect(proxy.lookups).toBe(0)
  expect(addresses.of(request())).toBe('10.0.0.2')
  expect(proxy.lookups).toBe(1)
  const two = new ClientAddresses(2)
  two.attach(peers('10.0.0.2'))
  expect(two.of(request({ 'x-forwarded-for': 'spoofed, 198.51.100.4, 10.0.0.1' }))).toBe('198.51.100.4')
})
