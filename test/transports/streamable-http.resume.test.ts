/**
 * Resumable SSE streams (Last-Event-ID): whether the client or the server drops a connection,
 * resuming delivers exactly the events that were missed, in order, and the response once.
 * Raw fetch + eventsource-parser first, then the SDK 1.x client's own reconnection.
 */
import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js'
import { openSession, post, SseReader, type RawSession, type SseEvent } from '../_utils/http.ts'
import { startTestServer } from '../_utils/server.ts'
import { registerTestTools, SEQUENCE_TOOL } from '../_utils/tools.ts'

const RETRY_MS = 50
let server: Awaited<ReturnType<typeof startTestServer>>
let url: string

beforeAll(async () => {
  server = await startTestServer({ MCPRAG_SSE_RETRY_MS: String(RETRY_MS) })
  url = server.mcpUrl
  registerTestTools(server.registry)
})
afterAll(() => server.stop())

function callSequence(id: number | string, progressToken: string, args: Record<string, unknown>) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name: SEQUENCE_TOOL, arguments: args, _meta: { progressToken } } }
}

/** The messages a sequence call produces, in order: progress and log per step, then the response. */
function expectedSequence(steps: number, progressToken: string, id: number | string): string[] {
  const out: string[] = []
  for (let i = 1; i <= steps; i++) out.push(`progress ${progressToken} ${i}/${steps}`, `log step ${i}`)
  out.push(`response ${id}: sequence of ${steps} steps complete`)
  return out
}

/** A one-line description of a message, so sequences compare readably. */
function describeMessage(m: Record<string, unknown> | undefined): string {
  if (!m) return '(empty)'
  const params = m.params as Record<string, unknown> | undefined
  if (m.method === 'notifications/progress') return `progress ${String(params?.progressToken)} ${String(params?.progress)}/${String(params?.total)}`
  if (m.method === 'notifications/message') return `log step ${String((params?.data as { step?: number } | undefined)?.step)}`
  if ('result' in m) {
    const content = (m.result as { content?: { text?: string }[] }).content
    return `response ${String(m.id)}: ${content?.[0]?.text ?? JSON.stringify(m.result)}`
  }
  return JSON.stringify(m)
}

const seqOf = (eventId: string | undefined) => Number(eventId?.slice(eventId.lastIndexOf(':') + 1))

function resume(session: RawSession, lastEventId: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { headers: { accept: 'text/event-stream', ...session.headers, 'last-event-id': lastEventId }, ...init })
}

/** Read events until `count` of them carry a message. */
async function readMessages(reader: SseReader, count: number): Promise<SseEvent[]> {
  const out: SseEvent[] = []
  while (out.length < count) {
    const e = await reader.next(5000)
    if (!e) throw new Error(`stream ended after ${out.length} of ${count} messages`)
    if (e.json) out.push(e)
  }
  return out
}

describe('raw resumption with Last-Event-ID', () => {
  test('a POST stream the client drops midway resumes by GET: every event arrives once, in order, response included', async () => {
    const session = await openSession(url)
    const abort = new AbortController()
    const res = await post(url, callSequence(7, 'tok-a', { steps: 8, delayMs: 30 }), session.headers, { signal: abort.signal })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    const first = new SseReader(res)
    const priming = await first.next(2000)
    expect(priming?.data).toBe('')
    expect(priming?.id).toBeString()
    expect(first.retry).toBe(RETRY_MS)
    const before = await readMessages(first, 5)
    abort.abort()

    const lastId = before.at(-1)!.id!
    const again = await resume(session, lastId)
    expect(again.status).toBe(200)
    expect(again.headers.get('content-type')).toBe('text/event-stream')
    const after = (await new SseReader(again).rest()).filter((e) => e.json)

    expect(before.length).toBeLessThan(expectedSequence(8, 'tok-a', 7).length)
    expect([...before, ...after].map((e) => describeMessage(e.json))).toEqual(expectedSequence(8, 'tok-a', 7))
    // Ids keep counting where the first connection stopped: nothing was skipped or repeated.
    expect(after.map((e) => seqOf(e.id))).toEqual(after.map((_, i) => seqOf(lastId) + 1 + i))
  })

  test('resuming a finished stream from its priming id replays it all exactly once, then ends', async () => {
    const session = await openSession(url)
    const res = await post(url, callSequence('whole', 'tok-b', { steps: 3, delayMs: 0 }), session.headers)
    const reader = new SseReader(res)
    const priming = (await reader.next(2000))!
    const live = (await reader.rest()).filter((e) => e.json)
    expect(live.map((e) => describeMessage(e.json))).toEqual(expectedSequence(3, 'tok-b', 'whole'))

    const replay = await resume(session, priming.id!)
    expect(replay.status).toBe(200)
    const replayed = (await new SseReader(replay).rest()).filter((e) => e.json)
    expect(replayed.map((e) => describeMessage(e.json))).toEqual(expectedSequence(3, 'tok-b', 'whole'))
    expect(replayed.map((e) => e.id)).toEqual(live.map((e) => e.id))
  })

  test('a stream the server closes midway (SSE polling) carries a retry hint and resumes without loss', async () => {
    const session = await openSession(url)
    const res = await post(url, callSequence(9, 'tok-c', { steps: 6, delayMs: 20, closeAfter: 2 }), session.headers)
    const reader = new SseReader(res)
    const events = await reader.rest()
    expect(events[0]?.data).toBe('')
    expect(reader.retry).toBe(RETRY_MS)
    const before = events.filter((e) => e.json)
    expect(before.map((e) => describeMessage(e.json))).toEqual(expectedSequence(6, 'tok-c', 9).slice(0, 4))

    const again = await resume(session, events.at(-1)!.id!)
    const after = (await new SseReader(again).rest()).filter((e) => e.json)
    expect([...before, ...after].map((e) => describeMessage(e.json))).toEqual(expectedSequence(6, 'tok-c', 9))
  })

  test('resuming one stream never replays the events of another stream of the same session', async () => {
    const session = await openSession(url)
    const abortA = new AbortController()
    const [resA, resB] = await Promise.all([
      post(url, callSequence('a', 'tok-a', { steps: 5, delayMs: 20 }), session.headers, { signal: abortA.signal }),
      post(url, callSequence('b', 'tok-b', { steps: 5, delayMs: 10 }), session.headers),
    ])
    const readerA = new SseReader(resA)
    await readerA.next(2000)
    const beforeA = await readMessages(readerA, 3)
    abortA.abort()
    const allB = (await new SseReader(resB).rest()).filter((e) => e.json)
    expect(allB.map((e) => describeMessage(e.json))).toEqual(expectedSequence(5, 'tok-b', 'b'))

    const again = await resume(session, beforeA.at(-1)!.id!)
    const afterA = (await new SseReader(again).rest()).filter((e) => e.json)
    expect([...beforeA, ...afterA].map((e) => describeMessage(e.json))).toEqual(expectedSequence(5, 'tok-a', 'a'))
  })

  test('the GET stream resumes after a drop and delivers the notifications sent while it was down', async () => {
    const session = await openSession(url)
    const subscribed = await post(url, { jsonrpc: '2.0', id: 1, method: 'resources/subscribe', params: { uri: 'test://static-text' } }, session.headers)
    expect(await subscribed.json()).toEqual({ jsonrpc: '2.0', id: 1, result: {} })
    const abort = new AbortController()
    const get = await fetch(url, { headers: { accept: 'text/event-stream', ...session.headers }, signal: abort.signal })
    expect(get.status).toBe(200)
    const reader = new SseReader(get)
    const priming = (await reader.next(2000))!
    expect(priming.data).toBe('')
    abort.abort()

    await server.core.resourceUpdated('test://static-text')
    await server.core.resourceUpdated('test://static-text')
    const again = await resume(session, priming.id!)
    expect(again.status).toBe(200)
    const resumed = new SseReader(again)
    const got = [(await resumed.next(2000))?.json, (await resumed.next(2000))?.json]
    await resumed.cancel()
    const updated = { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'test://static-text' } }
    expect(got).toEqual([updated, updated])
  })

  test('a Last-Event-ID of another session is refused with 400 and the message says why', async () => {
    const mine = await openSession(url)
    const theirs = await openSession(url)
    const res = await post(url, callSequence(1, 'tok', { steps: 1, delayMs: 0 }), theirs.headers)
    const priming = (await new SseReader(res).next(2000))!
    const stolen = await resume(mine, priming.id!)
    expect(stolen.status).toBe(400)
    const body = (await stolen.json()) as { error: { code: number; message: string } }
    expect(body.error.code).toBe(-32600)
    expect(body.error.message).toContain('Last-Event-ID')
    const garbled = await resume(mine, 'not-an-event-id')
    expect(garbled.status).toBe(400)
  })
})

describe('which stream carries what (SH-09, SH-11, SH-12, V-03)', () => {
  test('an SSE reply carries the headers that keep proxies from buffering or caching it', async () => {
    const session = await openSession(url)
    const res = await post(url, callSequence(1, 'tok', { steps: 1, delayMs: 0 }), session.headers)
    expect(res.headers.get('content-type')).toBe('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    await new SseReader(res).rest()
  })

  test('a call\'s messages go on its POST stream only; the GET stream carries only session-level messages', async () => {
    const session = await openSession(url)
    const get = await fetch(url, { headers: { accept: 'text/event-stream', ...session.headers } })
    const standalone = new SseReader(get)
    await standalone.next(2000)
    const res = await post(url, callSequence('own', 'tok-own', { steps: 3, delayMs: 5 }), session.headers)
    const own = (await new SseReader(res).rest()).filter((e) => e.json)
    expect(own.map((e) => describeMessage(e.json))).toEqual(expectedSequence(3, 'tok-own', 'own'))
    // The first thing on the GET stream after the call is this marker, so nothing of the call went there.
    await server.core.notifySession(session.id, 'notifications/message', { level: 'info', data: 'marker' })
    expect((await standalone.next(2000))?.json).toEqual({ jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'marker' } })
    await standalone.cancel()
  })

  test('sessions older than 2025-11-25 get no priming event, since they cannot parse an empty data line', async () => {
    for (const version of ['2025-06-18', '2025-03-26']) {
      const session = await openSession(url, version)
      const res = await post(url, callSequence(1, 'tok', { steps: 1, delayMs: 0 }), session.headers)
      const events = await new SseReader(res).rest()
      expect({ version, empty: events.filter((e) => e.data.trim() === '').length }).toEqual({ version, empty: 0 })
      expect(events.map((e) => describeMessage(e.json))).toEqual(expectedSequence(1, 'tok', 1))
      const get = await fetch(url, { headers: { accept: 'text/event-stream', ...session.headers } })
      const standalone = new SseReader(get)
      await server.core.notifySession(session.id, 'notifications/message', { level: 'info', data: 'first' })
      expect((await standalone.next(2000))?.json?.params).toEqual({ level: 'info', data: 'first' })
      await standalone.cancel()
    }
  })
})

/**
 * A fetch that lets `messages` SSE message events of the next matching POST through, then fails
 * that connection as a network drop would (the SDK sees a stream error, not a clean end).
 */
function droppingFetch(matches: (body: string) => boolean, messages: number): { fetch: typeof fetch; dropped: () => boolean } {
  let armed = true
  let dropped = false
  const wrapped = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init)
    const body = typeof init?.body === 'string' ? init.body : ''
    if (!armed || init?.method !== 'POST' || !matches(body) || !res.body) return res
    armed = false
    const reader = res.body.getReader()
    const decoder = new TextDecoder()
    const encoder = new TextEncoder()
    let buffer = ''
    let seen = 0
    let cut = false
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (cut) {
          // Erroring discards queued chunks, so the last frames went out on the previous pull.
          await reader.cancel().catch(() => {})
          dropped = true
          controller.error(new TypeError('network connection lost (test)'))
          return
        }
        const { done, value } = await reader.read()
        if (done) return controller.close()
        buffer += decoder.decode(value, { stream: true })
        let out = ''
        for (let end = buffer.indexOf('\n\n'); end !== -1 && !cut; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end + 2)
          buffer = buffer.slice(end + 2)
          out += frame
          if (/^data: \{/m.test(frame) && ++seen >= messages) cut = true
        }
        if (out) controller.enqueue(encoder.encode(out))
      },
      cancel: () => reader.cancel(),
    })
    return new Response(stream, { status: res.status, statusText: res.statusText, headers: res.headers })
  }
  return { fetch: wrapped as typeof fetch, dropped: () => dropped }
}

async function sdkClient(fetchImpl?: typeof fetch): Promise<{ client: Client; logs: number[]; errors: string[] }> {
  const client = new Client({ name: 'resume-test', version: '1.0.0' })
  const logs: number[] = []
  const errors: string[] = []
  client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
    logs.push((n.params.data as { step: number }).step)
  })
  client.onerror = (e) => errors.push(e.message)
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    fetch: fetchImpl,
    reconnectionOptions: { initialReconnectionDelay: 20, maxReconnectionDelay: 200, reconnectionDelayGrowFactor: 1.5, maxRetries: 3 },
  })
  await client.connect(transport)
  return { client, logs, errors }
}

describe('SDK 1.x client reconnection', () => {
  test('after its POST stream drops midway the SDK client resumes by itself and sees every progress and log event once', async () => {
    const drop = droppingFetch((body) => body.includes(SEQUENCE_TOOL), 4)
    const { client, logs, errors } = await sdkClient(drop.fetch)
    const progress: number[] = []
    const result = await client.callTool({ name: SEQUENCE_TOOL, arguments: { steps: 8, delayMs: 30 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    })
    expect(drop.dropped()).toBe(true)
    expect(errors.some((e) => e.includes('SSE stream disconnected'))).toBe(true)
    expect(result.content).toEqual([{ type: 'text', text: 'sequence of 8 steps complete' }])
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    expect(logs).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
    await client.close()
  })

  test('the SDK client gets test_reconnection\'s answer after the server closes the stream before answering', async () => {
    const { client } = await sdkClient()
    const result = await client.callTool({ name: 'test_reconnection', arguments: {} })
    expect((result.content as { text: string }[])[0]?.text).toContain('client properly reconnected')
    await client.close()
  })

  test('the SDK client follows a stream the server closes midway and misses no event', async () => {
    const { client, logs } = await sdkClient()
    const progress: number[] = []
    const result = await client.callTool({ name: SEQUENCE_TOOL, arguments: { steps: 6, delayMs: 20, closeAfter: 3 } }, undefined, {
      onprogress: (p) => progress.push(p.progress),
    })
    expect(result.content).toEqual([{ type: 'text', text: 'sequence of 6 steps complete' }])
    expect(progress).toEqual([1, 2, 3, 4, 5, 6])
    expect(logs).toEqual([1, 2, 3, 4, 5, 6])
    await client.close()
  })
})
