import { MemoryAuthStore } from '../../src/store/memory-auth-store.ts'
import { runAuthStoreContract } from './auth-store.case.ts'

runAuthStoreContract('MemoryAuthStore', () => new MemoryAuthStore())
