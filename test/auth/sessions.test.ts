/**
 * What a request's authentication read (session and user) stands for that same request's tool-call
 * check, and for nothing more: less than a second, never across a revocation or an MFA change on
 * this instance or a revocation announced on the bus. Every request still reads the store, so a
 * revocation by another process (the operator CLI) refuses the next request.
 */
import { beforeEach, expect, test } from 'bun:test'
import { AuditLog } from '../../src/auth/audit.ts'
import { createAuth, type Auth } from '../../src/auth/auth.ts'
import { RESOLVED_FRESH_MS } from '../../src/auth/sessions.ts'
import type { RegisteredTool } from '../../src/core/registry.ts'
import type { Principal } from '../../src/core/types.ts'
import { ConsoleMailer } from '../../src/mail/console-mailer.ts'
import { MemoryAuthStores } from '../../src/stores/memory/memory-auth-stores.ts'
import { MemoryBus } from '../../src/stores/memory/memory-bus.ts'
import { RevocationWatcher } from '../../src/transports/revocation-watcher.ts'
import { testAuthSettings } from '../_utils/auth-settings.ts'

const limit = { max: 1e9, windowMs: 60_000 }
const settings = testAuthSettings({ loginPerEmail: limit, loginPerMailbox: limit, authPerAddress: limit, toolCallsPerUser: limit, requestsPerAddress: limit })
const userTool = { tier: 'user', definition: { name: 'user_tool' } } as unknown as RegisteredTool
const adminTool = { tier: 'admin', definition: { name: 'admin_tool' } } as unknown as RegisteredTool

let stores: MemoryAuthStores
let auth: Auth
let now: number
let reads: number
let bus: MemoryBus

beforeEach(() => {
  stores = new MemoryAuthStores()
  reads = 0
  const read = stores.authSessions.getWithUser.bind(stores.authSessions)
  stores.authSessions.getWithUser = (id) => {
    reads++
    return read(id)
  }
  now = Date.now()
  bus = new MemoryBus()
  const audit = new AuditLog({ store: stores.audit, now: () => now, tierOf: () => 'user' })
  auth = createAuth({
    settings,
    stores,
    mailer: new ConsoleMailer(),
    audit,
    publicUrl: () => 'http://127.0.0.1:1',
    addressOf: () => '192.0.2.1',
    publishRevoked: (ids) => RevocationWatcher.publish(bus, ids),
    now: () => now,
  })
})

async function signedIn(tier: 'user' | 'admin' = 'user'): Promise<{ token: string; sessionId: string; userId: string }> {
  const user = await stores.users.create({ email: `${crypto.randomUUID()}@example.com`, tier, now })
  const { token, sessionId } = await auth.sessions.start(user)
  return { token, sessionId, userId: user.id }
}

async function authenticate(token: string): Promise<Principal> {
  const p = await auth.bearer.authenticate(new Request('http://127.0.0.1:1/mcp', { headers: { authorization: `Bearer ${token}` } }))
  if (!('id' in p)) throw new Error(`refused: ${p.status}`)
  return p
}

test('the tool check of a request reuses what its authentication read (one store read per request)', async () => {
  const { token } = await signedIn()
  const p = await authenticate(token)
  expect(reads).toBe(1)
  expect(await auth.policy.check(p, userTool)).toBeUndefined()
  expect(reads).toBe(1)
  // A principal that was not resolved here (or a copy of one) is checked against the store.
  expect(await auth.policy.check({ ...p }, userTool)).toBeUndefined()
  expect(reads).toBe(2)
  // The next request reads the store again.
  await authenticate(token)
  expect(reads).toBe(3)
})

test('after RESOLVED_FRESH_MS the store is read again (long-lived connections): a revoked session is refused', async () => {
  const { token, sessionId } = await signedIn()
  const p = await authenticate(token)
  // Revoked by another process (the operator CLI writes the store; no event reaches this one).
  await stores.authSessions.revoke(sessionId, now)
  now += RESOLVED_FRESH_MS - 1
  expect(await auth.policy.check(p, userTool)).toBeUndefined()
  now += 1
  expect((await auth.policy.check(p, userTool))?.data).toMatchObject({ reason: 'session_expired' })
  expect(reads).toBe(2)
  // And every new request with the token is refused at once.
  await expect(authenticate(token)).rejects.toThrow('refused: 401')
})

test('a revocation on this instance counts at once for requests already authenticated', async () => {
  const { token, sessionId } = await signedIn()
  const p = await authenticate(token)
  await auth.sessions.revoke(sessionId)
  expect((await auth.policy.check(p, userTool))?.data).toMatchObject({ reason: 'session_expired' })

  const other = await signedIn()
  const q = await authenticate(other.token)
  await auth.sessions.revokeAll(other.userId)
  expect((await auth.policy.check(q, userTool))?.data).toMatchObject({ reason: 'session_expired' })
})

test('a revocation announced on the bus (another instance) drops what this one read', async () => {
  const watcher = new RevocationWatcher({ bus, onRevoked: () => auth.sessions.invalidate() })
  await watcher.start()
  try {
    const { token, sessionId } = await signedIn()
    const p = await authenticate(token)
    expect(auth.sessions.recentState(p)).toBeDefined()
    // The other instance revoked it in the shared store and announced it.
    await stores.authSessions.revoke(sessionId, now)
    RevocationWatcher.publish(bus, [sessionId])
    await Bun.sleep(1)
    expect(auth.sessions.recentState(p)).toBeUndefined()
    expect((await auth.policy.check(p, userTool))?.data).toMatchObject({ reason: 'session_expired' })
  } finally {
    watcher.close()
  }
})

test('a session that expires between authentication and the tool check is refused', async () => {
  const user = await stores.users.create({ email: 'short@example.com', tier: 'user', now })
  const { token } = await auth.sessions.start(user, 500)
  const p = await authenticate(token)
  now += 500
  expect((await auth.policy.check(p, userTool))?.data).toMatchObject({ reason: 'session_expired' })
})

test('the tier and MFA window read at authentication are what the check applies', async () => {
  const { token, sessionId, userId } = await signedIn('admin')
  const p = await authenticate(token)
  expect((await auth.policy.check(p, adminTool))?.data).toMatchObject({ reason: 'mfa_required' })
  await auth.sessions.markMfaVerified(sessionId)
  // The MFA change on this instance is seen at once (the next check reads the store).
  expect(await auth.policy.check(p, adminTool)).toBeUndefined()
  // A tier lowered by another process: the next request reads it.
  await stores.users.setTier(userId, 'user')
  const q = await authenticate(token)
  expect((await auth.policy.check(q, adminTool))?.data).toMatchObject({ reason: 'insufficient_tier' })
})
