/**
 * Cross-instance notification latency ("hub hop"): two processes, each with mcprag's own Redis
 * streams implementation on its own connections, as two instances. The follower attaches to a
 * session's standalone stream; the writer writes notifications to it at a steady pace, each
 * carrying the time it was handed to `Streams.write`; the follower records how long each took to
 * arrive (both processes read the same clock: `performance.timeOrigin + performance.now()`).
 *
 *   bun bench/clients/hub-hop.ts follower <redis-url> <prefix> <session> <count>   prints READY, then BENCH_JSON {…}
 *   bun bench/clients/hub-hop.ts writer   <redis-url> <prefix> <session> <count> <interval-ms>
 */
import { STANDALONE_STREAM } from '../../src/core/streams.ts'
import { RedisInstances } from '../../src/stores/redis/redis-instances.ts'
import { RedisLink } from '../../src/stores/redis/redis-link.ts'
import { RedisStreams } from '../../src/stores/redis/redis-streams.ts'

const [role, url, prefix, sessionId, countArg, intervalArg] = process.argv.slice(2)
const count = Number(countArg)
const now = () => performance.timeOrigin + performance.now()

const link = new RedisLink({ url: url!, prefix: prefix!, commandTimeoutMs: 5000 })
await link.connect()
const instances = new RedisInstances(link, `${role}-${process.pid}`)
await instances.start()
const streams = new RedisStreams(link, instances, { retentionMs: 600_000 })
const ref = { sessionId: sessionId!, streamId: STANDALONE_STREAM }

if (role === 'follower') {
  const delays: number[] = []
  let done: () => void
  const finished = new Promise<void>((r) => (done = r))
  await streams.attach(ref, 'live', {
    event(_seq, message) {
      const sent = (message as { params?: { data?: { t?: number } } }).params?.data?.t
      if (typeof sent === 'number') delays.push((now() - sent) * 1000)
      if (delays.length >= count) done()
    },
    end: () => done(),
  })
  console.log('READY')
  await Promise.race([finished, Bun.sleep(60_000 + count * 10)])
  delays.sort((a, b) => a - b)
  const q = (p: number) => delays[Math.min(delays.length - 1, Math.floor(p * delays.length))] ?? NaN
  console.log(`BENCH_JSON ${JSON.stringify({ events: delays.length, expected: count, p50Us: q(0.5), p90Us: q(0.9), p99Us: q(0.99), maxUs: delays.at(-1) ?? NaN })}`)
} else {
  const interval = Number(intervalArg)
  for (let i = 0; i < count; i++) {
    await streams.write(ref, [{ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: { i, t: now() } } }])
    await Bun.sleep(interval)
  }
}
await streams.close()
await instances.stop()
await link.close()
process.exit(0)
