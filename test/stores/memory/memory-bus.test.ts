import { MemoryBus } from '../../../src/stores/memory/memory-bus.ts'
import { runBusContract } from '../../core/bus.case.ts'

runBusContract('MemoryBus', async () => {
  const bus = new MemoryBus()
  return { a: bus, b: bus, close: () => bus.close() }
})
