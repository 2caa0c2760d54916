/**
 * @module stores/memory/memory-oauth-stores
 * The OAuth stores in process memory (one instance, tests, `MCPRAG_AUTH` development). JavaScript
 * runs each method to its first `await` without interruption and these have none, so every
 * method is atomic as its interface requires. Values are copied in and out: callers never hold
 * the stored object.
 */
import {
  USED_CODE_MEMORY_MS,
  type AuthorizationCode,
  type BrowserLogin,
  type ClientStore,
  type CodeStore,
  type ConsentStore,
  type GithubLinkStore,
  type GithubState,
  type HandleTable,
  type OAuthClient,
  type OAuthStores,
  type PendingAuthorization,
  type Redemption,
  type RefreshToken,
  type RefreshTokenStore,
  type Rotation,
} from '../../oauth/stores.ts'

const copy = <T>(v: T): T => structuredClone(v)

class MemoryClients implements ClientStore {
  readonly map = new Map<string, OAuthClient>()
  async create(client: OAuthClient): Promise<void> {
    this.map.set(client.clientId, copy(client))
  }
  async get(clientId: string, now: number): Promise<OAuthClient | undefined> {
    const c = this.map.get(clientId)
    return c && c.expiresAt > now ? copy(c) : undefined
  }
  async touch(clientId: string, expiresAt: number): Promise<void> {
    const c = this.map.get(clientId)
    if (c) c.expiresAt = Math.max(c.expiresAt, expiresAt)
  }
}

class MemoryCodes implements CodeStore {
  readonly map = new Map<string, { code: AuthorizationCode; usedBy?: string; reused: boolean }>()
  async put(hash: string, code: AuthorizationCode): Promise<void> {
    this.map.set(hash, { code: copy(code), reused: false })
  }
  async redeem(hash: string, grantId: string, now: number): Promise<Redemption> {
    const entry = this.map.get(hash)
    if (!entry) return undefined
    if (entry.usedBy !== undefined) {
      entry.reused = true
      return { reusedBy: entry.usedBy }
    }
    if (entry.code.expiresAt <= now) return undefined
    entry.usedBy = grantId
    return { code: copy(entry.code) }
  }
  async reused(hash: string): Promise<boolean> {
    return this.map.get(hash)?.reused ?? false
  }
}

class MemoryRefreshTokens implements RefreshTokenStore {
  readonly map = new Map<string, { token: RefreshToken; used: boolean }>()
  async put(hash: string, token: RefreshToken): Promise<void> {
    this.map.set(hash, { token: copy(token), used: false })
  }
  async get(hash: string, now: number): Promise<{ token: RefreshToken; used: boolean } | undefined> {
    const e = this.map.get(hash)
    return e && e.token.expiresAt > now ? { token: copy(e.token), used: e.used } : undefined
  }
  async rotate(oldHash: string, newHash: string, next: RefreshToken, now: number): Promise<Rotation> {
    const e = this.map.get(oldHash)
    if (!e || e.token.expiresAt <= now) return 'missing'
    if (e.used) return 'reused'
    e.used = true
    this.map.set(newHash, { token: copy(next), used: false })
    return 'rotated'
  }
  async deleteGrant(grantId: string): Promise<void> {
    for (const [hash, e] of this.map) if (e.token.grantId === grantId) this.map.delete(hash)
  }
}

class MemoryConsents implements ConsentStore {
  readonly map = new Map<string, number>()
  async remember(key: string, expiresAt: number): Promise<void> {
    this.map.set(key, expiresAt)
  }
  async has(key: string, now: number): Promise<boolean> {
    return (this.map.get(key) ?? 0) > now
  }
}

export class MemoryHandles<T> implements HandleTable<T> {
  readonly map = new Map<string, { value: T; expiresAt: number }>()
  async put(hash: string, value: T, expiresAt: number): Promise<void> {
    this.map.set(hash, { value: copy(value), expiresAt })
  }
  async get(hash: string, now: number): Promise<T | undefined> {
    const e = this.map.get(hash)
    return e && e.expiresAt > now ? copy(e.value) : undefined
  }
  async take(hash: string, now: number): Promise<T | undefined> {
    const e = this.map.get(hash)
    this.map.delete(hash)
    return e && e.expiresAt > now ? e.value : undefined
  }
  async delete(hash: string): Promise<void> {
    this.map.delete(hash)
  }
}

class MemoryGithubLinks implements GithubLinkStore {
  readonly map = new Map<number, string>()
  async get(githubId: number): Promise<string | undefined> {
    return this.map.get(githubId)
  }
  async link(githubId: number, userId: string): Promise<string> {
    if (!this.map.has(githubId)) this.map.set(githubId, userId)
    return this.map.get(githubId)!
  }
}

export function memoryOAuthStores(): OAuthStores {
  const clients = new MemoryClients()
  const codes = new MemoryCodes()
  const refreshTokens = new MemoryRefreshTokens()
  const consents = new MemoryConsents()
  const pending = new MemoryHandles<PendingAuthorization>()
  const browserLogins = new MemoryHandles<BrowserLogin>()
  const githubStates = new MemoryHandles<GithubState>()
  return {
    clients,
    codes,
    refreshTokens,
    consents,
    pending,
    browserLogins,
    githubStates,
    githubLinks: new MemoryGithubLinks(),
    async purgeExpired(now) {
      for (const [k, c] of clients.map) if (c.expiresAt <= now) clients.map.delete(k)
      for (const [k, e] of codes.map) if (e.code.expiresAt + USED_CODE_MEMORY_MS <= now) codes.map.delete(k)
      for (const [k, e] of refreshTokens.map) if (e.token.expiresAt <= now) refreshTokens.map.delete(k)
      for (const [k, at] of consents.map) if (at <= now) consents.map.delete(k)
      for (const table of [pending, browserLogins, githubStates] as MemoryHandles<unknown>[])
        for (const [k, e] of table.map) if (e.expiresAt <= now) table.map.delete(k)
    },
  }
}
