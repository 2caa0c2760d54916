/**
 * A TCP proxy in front of Redis, for tests that need one kind of connection to fail while the
 * others stay up: `cut('SUBSCRIBE')` closes every connection that has sent a SUBSCRIBE and every
 * new one that sends it, until `restore()`. A whole restart is `Cluster.redis('SHUTDOWN')`; this is
 * the partial outage a restart cannot stage (a subscriber gone, commands still answered).
 */
import { createServer, connect, type Socket } from 'node:net'

export interface TcpProxy {
  /** The target URL with the proxy's host and port in it. */
  url: string
  cut(command: string): void
  restore(): void
  close(): Promise<void>
}

interface Piped {
  client: Socket
  upstream: Socket
  /** The tail of what the client sent, upper-cased, so a command split across chunks still matches. */
  sent: string
}

export async function tcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl)
  const live = new Set<Piped>()
  let cutting: string | undefined
  const kill = (p: Piped) => {
    p.client.destroy()
    p.upstream.destroy()
    live.delete(p)
  }
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 6379), target.hostname)
    const p: Piped = { client, upstream, sent: '' }
    live.add(p)
    client.on('data', (chunk: Buffer) => {
      p.sent = (p.sent + chunk.toString('latin1').toUpperCase()).slice(-4096)
      if (cutting !== undefined && p.sent.includes(cutting)) return kill(p)
      if (!upstream.write(chunk)) client.pause()
    })
    upstream.on('drain', () => client.resume())
    upstream.pipe(client)
    for (const s of [client, upstream]) {
      s.on('error', () => kill(p))
      s.on('close', () => kill(p))
    }
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  const url = new URL(targetUrl)
  url.hostname = '127.0.0.1'
  url.port = String(port)
  return {
    url: url.toString(),
    cut(command) {
      cutting = command.toUpperCase()
      for (const p of [...live]) if (p.sent.includes(cutting)) kill(p)
    },
    restore() {
      cutting = undefined
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const p of [...live]) kill(p)
        server.close(() => resolve())
      }),
  }
}
