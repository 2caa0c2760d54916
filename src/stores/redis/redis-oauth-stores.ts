/**
 * @module stores/redis/redis-oauth-stores
 * The authorization server's stores in Redis. Each record is a hash (or a string) whose expiry is
 * kept inside it and checked against the caller's `now`, and whose TTL lets Redis drop it a while
 * after (so nothing needs purging). Every atomic operation is one command or one Lua script: a
 * code is redeemed once, a refresh token rotates by compare-and-swap (refresh tokens and grants
 * share a hash tag, so the script is one slot), a handle is taken with GETDEL, a GitHub account is
 * linked with SET NX.
 */
import {
  USED_CODE_MEMORY_MS,
  type AuthorizationCode,
  type ClientStore,
  type CodeStore,
  type ConsentStore,
  type GithubLinkStore,
  type HandleTable,
  type OAuthClient,
  type OAuthStores,
  type Redemption,
  type RefreshToken,
  type RefreshTokenStore,
  type Rotation,
} from '../../oauth/stores.ts'
import type { RedisLink } from './redis-link.ts'

/** Records outlive their expiry this long at least (clocks differ; the stored expiry decides). */
const SLACK_MS = 60_000
const ttl = (expiresAt: number, keep = SLACK_MS) => String(Math.max(expiresAt - Date.now(), 0) + keep)

const pairs = (h: string[]) => {
  const m = new Map<string, string>()
  for (let i = 0; i + 1 < h.length; i += 2) m.set(h[i]!, h[i + 1]!)
  return m
}

class RedisClients implements ClientStore {
  constructor(private readonly link: RedisLink) {}
  async create(c: OAuthClient): Promise<void> {
    const key = this.link.keys.oauth('client', c.clientId)
    await this.link.script(`redis.call('HSET', KEYS[1], 'v', ARGV[1], 'e', ARGV[2]); redis.call('PEXPIRE', KEYS[1], ARGV[3]) return 1`, [key], [JSON.stringify(c), c.expiresAt, ttl(c.expiresAt)])
  }
  async get(clientId: string, now: number): Promise<OAuthClient | undefined> {
    const [v, e] = await this.link.call<(string | null)[]>(['HMGET', this.link.keys.oauth('client', clientId), 'v', 'e'])
    if (!v || Number(e) <= now) return undefined
    return { ...(JSON.parse(v) as OAuthClient), expiresAt: Number(e) }
  }
  async touch(clientId: string, expiresAt: number): Promise<void> {
    await this.link.script(
      `local e = redis.call('HGET', KEYS[1], 'e')
if not e or tonumber(e) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'e', ARGV[1]); redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1`,
      [this.link.keys.oauth('client', clientId)],
      [expiresAt, ttl(expiresAt)],
    )
  }
}

/** KEYS: code. ARGV: grant id, now, how long a used code is remembered past its expiry. */
const REDEEM = `if redis.call('EXISTS', KEYS[1]) == 0 then return false end
local e = tonumber(redis.call('HGET', KEYS[1], 'e'))
local used = redis.call('HGET', KEYS[1], 'u')
if used then
  if e + tonumber(ARGV[3]) <= tonumber(ARGV[2]) then return false end
  redis.call('HSET', KEYS[1], 'r', '1') return {'reused', used}
end
if e <= tonumber(ARGV[2]) then return false end
redis.call('HSET', KEYS[1], 'u', ARGV[1])
return {'code', redis.call('HGET', KEYS[1], 'v')}`

class RedisCodes implements CodeStore {
  constructor(private readonly link: RedisLink) {}
  async put(hash: string, code: AuthorizationCode): Promise<void> {
    // Remembered past its expiry, so a late replay still names the grant to revoke.
    const key = this.link.keys.oauth('code', hash)
    await this.link.script(`redis.call('HSET', KEYS[1], 'v', ARGV[1], 'e', ARGV[2]); redis.call('PEXPIRE', KEYS[1], ARGV[3]) return 1`, [key], [JSON.stringify(code), code.expiresAt, ttl(code.expiresAt, USED_CODE_MEMORY_MS)])
  }
  async redeem(hash: string, grantId: string, now: number): Promise<Redemption> {
    const r = await this.link.script<string[] | null>(REDEEM, [this.link.keys.oauth('code', hash)], [grantId, now, USED_CODE_MEMORY_MS])
    if (!r) return undefined
    return r[0] === 'reused' ? { reusedBy: r[1]! } : { code: JSON.parse(r[1]!) as AuthorizationCode }
  }
  async reused(hash: string): Promise<boolean> {
    return (await this.link.call(['HGET', this.link.keys.oauth('code', hash), 'r'])) === '1'
  }
}

/** KEYS: old token, new token, grant set. ARGV: now, new record, new expiry, ttl, new hash. */
const ROTATE = `if redis.call('EXISTS', KEYS[1]) == 0 or tonumber(redis.call('HGET', KEYS[1], 'e')) <= tonumber(ARGV[1]) then return 'missing' end
if redis.call('HGET', KEYS[1], 'used') == '1' then return 'reused' end
redis.call('HSET', KEYS[1], 'used', '1')
redis.call('HSET', KEYS[2], 'v', ARGV[2], 'e', ARGV[3], 'used', '0')
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('SADD', KEYS[3], ARGV[5])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 'rotated'`

class RedisRefreshTokens implements RefreshTokenStore {
  constructor(private readonly link: RedisLink) {}
  async put(hash: string, t: RefreshToken): Promise<void> {
    const k = this.link.keys
    await this.link.script(
      `redis.call('HSET', KEYS[1], 'v', ARGV[1], 'e', ARGV[2], 'used', '0'); redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SADD', KEYS[2], ARGV[4]); redis.call('PEXPIRE', KEYS[2], ARGV[3]) return 1`,
      [k.refreshToken(hash), k.grantRefreshTokens(t.grantId)],
      [JSON.stringify(t), t.expiresAt, ttl(t.expiresAt), hash],
    )
  }
  async get(hash: string, now: number): Promise<{ token: RefreshToken; used: boolean } | undefined> {
    const h = pairs(await this.link.call<string[]>(['HGETALL', this.link.keys.refreshToken(hash)]))
    if (!h.has('v') || Number(h.get('e')) <= now) return undefined
    return { token: JSON.parse(h.get('v')!) as RefreshToken, used: h.get('used') === '1' }
  }
  async rotate(oldHash: string, newHash: string, next: RefreshToken, now: number): Promise<Rotation> {
    const k = this.link.keys
    return (await this.link.script<string>(ROTATE, [k.refreshToken(oldHash), k.refreshToken(newHash), k.grantRefreshTokens(next.grantId)], [now, JSON.stringify(next), next.expiresAt, ttl(next.expiresAt), newHash])) as Rotation
  }
  async deleteGrant(grantId: string): Promise<void> {
    const k = this.link.keys
    const tokenPrefix = k.refreshToken('')
    await this.link.script(
      `for _, h in ipairs(redis.call('SMEMBERS', KEYS[1])) do redis.call('DEL', ARGV[1] .. h) end
redis.call('DEL', KEYS[1]) return 1`,
      [k.grantRefreshTokens(grantId)],
      [tokenPrefix],
    )
  }
}

class RedisConsents implements ConsentStore {
  constructor(private readonly link: RedisLink) {}
  async remember(key: string, expiresAt: number): Promise<void> {
    await this.link.call(['SET', this.link.keys.oauth('consent', key), String(expiresAt), 'PX', ttl(expiresAt)])
  }
  async has(key: string, now: number): Promise<boolean> {
    const at = await this.link.call(['GET', this.link.keys.oauth('consent', key)])
    return typeof at === 'string' && Number(at) > now
  }
}

class RedisHandles<T> implements HandleTable<T> {
  constructor(
    private readonly link: RedisLink,
    private readonly kind: string,
  ) {}
  #key(hash: string): string {
    return this.link.keys.oauth(`h:${this.kind}`, hash)
  }
  async put(hash: string, value: T, expiresAt: number): Promise<void> {
    await this.link.call(['SET', this.#key(hash), JSON.stringify({ v: value, e: expiresAt }), 'PX', ttl(expiresAt)])
  }
  async get(hash: string, now: number): Promise<T | undefined> {
    return open<T>(await this.link.call(['GET', this.#key(hash)]), now)
  }
  async take(hash: string, now: number): Promise<T | undefined> {
    return open<T>(await this.link.call(['GETDEL', this.#key(hash)]), now)
  }
  async delete(hash: string): Promise<void> {
    await this.link.call(['DEL', this.#key(hash)])
  }
}

function open<T>(raw: unknown, now: number): T | undefined {
  if (typeof raw !== 'string') return undefined
  const { v, e } = JSON.parse(raw) as { v: T; e: number }
  return e > now ? v : undefined
}

class RedisGithubLinks implements GithubLinkStore {
  constructor(private readonly redis: RedisLink) {}
  async get(githubId: number): Promise<string | undefined> {
    const id = await this.redis.call(['GET', this.redis.keys.oauth('github', githubId)])
    return typeof id === 'string' ? id : undefined
  }
  async link(githubId: number, userId: string): Promise<string> {
    await this.redis.call(['SET', this.redis.keys.oauth('github', githubId), userId, 'NX'])
    return (await this.get(githubId))!
  }
}

export function redisOAuthStores(link: RedisLink): OAuthStores {
  return {
    clients: new RedisClients(link),
    codes: new RedisCodes(link),
    refreshTokens: new RedisRefreshTokens(link),
    consents: new RedisConsents(link),
    pending: new RedisHandles(link, 'pending'),
    browserLogins: new RedisHandles(link, 'browser'),
    githubStates: new RedisHandles(link, 'github-state'),
    githubLinks: new RedisGithubLinks(link),
    async purgeExpired() {
      // Every record carries a TTL.
    },
  }
}
