import { MemoryStreams } from '../../../src/stores/memory/memory-streams.ts'
import { runStreamsContract } from '../../core/streams.case.ts'

runStreamsContract('MemoryStreams', async () => {
  const logMaxBytes = 64 * 1024
  const streams = new MemoryStreams({ retentionMs: 60_000, maxBytes: logMaxBytes })
  return { a: streams, b: streams, logMaxBytes, close: () => streams.close() }
})
