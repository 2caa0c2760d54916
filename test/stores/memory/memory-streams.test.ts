import { MemoryStreams } from '../../../src/stores/memory/memory-streams.ts'
import { runStreamsContract } from '../../core/streams.case.ts'

runStreamsContract('MemoryStreams', async () => {
  const streams = new MemoryStreams({ retentionMs: 60_000 })
  return { a: streams, b: streams, close: () => streams.close() }
})
