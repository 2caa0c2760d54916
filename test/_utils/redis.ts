/**
 * Redis for tests: the machine's Redis (`REDIS_URL`, which `.ci/run` sets, starting its own on a
 * free port when none answers), with a key prefix per test file so runs never see each other's
 * keys, and only that prefix removed afterwards.
 */
import { afterAll } from 'bun:test'
import { RedisLink } from '../../src/stores/redis/redis-link.ts'
import { tcpProxy, type TcpProxy } from './tcp-proxy.ts'

export const REDIS_URL = process.env.TEST_REDIS_URL ?? ''
/** `describe.skipIf(!hasRedis)` for suites that need Redis. */
export const hasRedis = REDIS_URL !== ''

/** A fresh key prefix; its keys are deleted when the file's tests end. */
export function testPrefix(name: string): string {
  const prefix = `mcprag-test:${name}:${crypto.randomUUID().slice(0, 8)}:`
  afterAll(() => deleteKeys(prefix))
  return prefix
}

/** A connected link under `prefix` (close it when done). */
export async function testLink(prefix: string, commandTimeoutMs = 2000): Promise<RedisLink> {
  const link = new RedisLink({ url: REDIS_URL, prefix, commandTimeoutMs })
  await link.connect()
  return link
}

/**
 * Two links under `prefix`, as two instances would hold: B's goes through a proxy that can cut its
 * subscriber alone (`proxy.cut('SUBSCRIBE')`). `close` closes both links and the proxy.
 */
export async function linksWithCuttableB(prefix: string): Promise<{ a: RedisLink; b: RedisLink; proxy: TcpProxy; close(): Promise<void> }> {
  const proxy = await tcpProxy(REDIS_URL)
  const a = await testLink(prefix)
  const b = new RedisLink({ url: proxy.url, prefix, commandTimeoutMs: 2000 })
  await b.connect()
  return {
    a,
    b,
    proxy,
    async close() {
      proxy.restore()
      await a.close()
      await b.close()
      await proxy.close()
    },
  }
}

export async function deleteKeys(prefix: string): Promise<void> {
  if (!hasRedis) return
  const link = await testLink('')
  try {
    let cursor = '0'
    do {
      const [next, keys] = await link.call<[string, string[]]>(['SCAN', cursor, 'MATCH', `${prefix}*`, 'COUNT', '1000'])
      if (keys.length) await link.call(['UNLINK', ...keys])
      cursor = next
    } while (cursor !== '0')
  } finally {
    await link.close()
  }
}
