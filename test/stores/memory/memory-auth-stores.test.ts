import { MemoryAuthStores } from '../../../src/stores/memory/memory-auth-stores.ts'
import { runAuthStoresContract } from '../../auth/stores.case.ts'

runAuthStoresContract('MemoryAuthStores', () => new MemoryAuthStores())
