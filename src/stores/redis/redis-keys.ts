/**
 * @module stores/redis/redis-keys
 * Every Redis key and channel name, built in one place under one configurable prefix (so an ACL can
 * scope the server to `~<prefix>*` and `&<prefix>*`). Every key of one MCP session carries the
 * session id as a hash tag (`{…}`), so per-session scripts touch one slot and run on Redis Cluster.
 */
import { createHash } from 'node:crypto'

export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** MCP session metadata (a hash). */
  meta(sessionId: string): string {
    return `${this.prefix}{${sessionId}}:meta`
  }
  /** The resource URIs a session subscribed to (a set). */
  subscriptions(sessionId: string): string {
    return `${this.prefix}{${sessionId}}:subs`
  }
  /** Sessions subscribed to one URI (a set); the URI is hashed so any URI makes a short key. */
  subscribers(uri: string): string {
    return `${this.prefix}rsub:${createHash('sha1').update(uri).digest('hex')}`
  }
  /** A client's answer to a server request, kept until the instance that asked takes it. */
  reply(sessionId: string, requestId: string | number): string {
    return `${this.prefix}{${sessionId}}:reply:${typeof requestId}:${requestId}`
  }
  /** The session's event log (a Redis Stream, ids `0-<seq>`). */
  events(sessionId: string): string {
    return `${this.prefix}{${sessionId}}:ev`
  }
  /** The session's stream records and position counter (a hash). */
  streams(sessionId: string): string {
    return `${this.prefix}{${sessionId}}:st`
  }
  /** Where the session's stream frames are published. */
  streamChannel(sessionId: string): string {
    return `${this.prefix}{${sessionId}}:ch`
  }
  /**
   * The live sessions of one owner (`o`), client address (`a`) or auth session (`s`): a sorted set
   * scored by idle deadline, so its first member is the least recently touched. The session
   * scripts build these names themselves from the prefix (`<prefix>sg:<kind>:<value>`): keep both.
   */
  sessionGroup(kind: 'o' | 'a' | 's', value: string): string {
    return `${this.prefix}sg:${kind}:${value}`
  }
  /** A bus topic's channel. */
  topic(name: string): string {
    return `${this.prefix}bus:${name}`
  }
  /** An instance's heartbeat (expires unless refreshed). */
  instance(id: string): string {
    return `${this.prefix}inst:${id}`
  }

  user(id: string): string {
    return `${this.prefix}user:${id}`
  }
  userByEmail(email: string): string {
    return `${this.prefix}user-email:${email}`
  }
  /** Every user id, ordered by creation (a sorted set of `<createdAt>:<id>` at score 0, read by lex). */
  users(): string {
    return `${this.prefix}users`
  }
  authSession(id: string): string {
    return `${this.prefix}as:${id}`
  }
  userAuthSessions(userId: string): string {
    return `${this.prefix}as-user:${userId}`
  }
  totp(userId: string): string {
    return `${this.prefix}totp:${userId}`
  }
  counter(key: string): string {
    return `${this.prefix}rl:${key}`
  }
  oneTimeToken(kind: string, hash: string): string {
    return `${this.prefix}ott:${kind}:${hash}`
  }
  audit(): string {
    return `${this.prefix}audit`
  }
  /** The last audit record id handed out (records are numbered across batches). */
  auditIds(): string {
    return `${this.prefix}audit:id`
  }
  /** The lowest audit record id retention has kept (a batch's purged head stays in the log). */
  auditPurgeMark(): string {
    return `${this.prefix}audit:purged`
  }

  /** An OAuth record of one kind (client, code, consent, handle, GitHub link). */
  oauth(kind: string, id: string | number): string {
    return `${this.prefix}oauth:${kind}:${id}`
  }
  /** A refresh token. Refresh tokens and grants share one hash tag: rotation is one script over both. */
  refreshToken(hash: string): string {
    return `${this.prefix}oauth:{rt}:${hash}`
  }
  /** The refresh tokens of one grant (a set). */
  grantRefreshTokens(grantId: string): string {
    return `${this.prefix}oauth:{rt}:grant:${grantId}`
  }
}
