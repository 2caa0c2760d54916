import { MemorySessionStore } from '../../../src/stores/memory/memory-session-store.ts'
import { runSessionStoreContract } from '../../core/session-store.case.ts'

runSessionStoreContract('MemorySessionStore', async () => {
  const ttlMs = 600
  const store = new MemorySessionStore({ ttlMs })
  return { a: store, b: store, ttlMs, close: () => store.close() }
})
