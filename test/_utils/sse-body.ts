/**
 * The read loop under both SSE readers (`SseReader` in http.ts, `LegacySseReader` in legacy-sse.ts):
 * a response body fed, as it arrives, to eventsource-parser, the parser the SDK clients use.
 */
import { createParser, type ParserCallbacks } from 'eventsource-parser'

/**
 * Feed `response`'s body to a parser with `callbacks`; `onEnd` runs once the body is over
 * (finished, cut by the server, or cancelled by the test). Returns what cancels the body.
 */
export function readSseBody(response: Response, callbacks: ParserCallbacks, onEnd: () => void): () => Promise<void> {
  if (!response.body) throw new Error('response has no body')
  const reader = response.body.getReader()
  const parser = createParser(callbacks)
  const decoder = new TextDecoder()
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        parser.feed(decoder.decode(value, { stream: true }))
      }
    } catch {
      // Aborted by the test or cut by the server: either way the stream is over.
    }
    onEnd()
  })()
  return () => reader.cancel()
}
