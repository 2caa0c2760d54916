import { memoryOAuthStores } from '../../src/stores/memory/oauth-stores.ts'
import { runOAuthStoresContract } from './oauth-stores.case.ts'

// One process, one state: both "instances" are the same object.
runOAuthStoresContract('memory', () => {
  const s = memoryOAuthStores()
  return { a: s, b: s, close() {} }
})
