import { memoryOAuthStores } from '../../../src/stores/memory/memory-oauth-stores.ts'
import { runOAuthStoresContract } from '../../oauth/oauth-stores.case.ts'

// One process, one state: both "instances" are the same object.
runOAuthStoresContract('memory', () => {
  const s = memoryOAuthStores()
  return { a: s, b: s, close() {} }
})
