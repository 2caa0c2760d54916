/**
 * @module oauth/clients
 * Who a client is: one registered here (`/register`, RFC 7591) or one whose `client_id` is the
 * URL of its metadata document (CIMD). Registration issues a random id, a secret for confidential
 * clients and a registration access token (both stored only as hashes), and clients that stop
 * being used are forgotten. Client authentication at the token and revocation endpoints checks
 * the secret in constant time, from `Authorization: Basic` or the form body.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto'
import { hashToken } from '../auth/one-time-tokens.ts'
import type { CimdClients } from './cimd.ts'
import { isUrlClientId } from './cimd.ts'
import type { ClientMetadata } from './client-metadata.ts'
import type { ClientStore, OAuthClient, TokenEndpointAuthMethod } from './stores.ts'

/** A client as the endpoints see it, wherever it came from. */
export interface ResolvedClient {
  clientId: string
  redirectUris: string[]
  tokenEndpointAuthMethod: TokenEndpointAuthMethod
  grantTypes: string[]
  clientName?: string
  secretHash?: string
  /** Set for metadata-document clients: the host that vouches for them (shown on the consent page). */
  documentHost?: string
}

export type ClientLookup = { ok: true; client: ResolvedClient } | { ok: false; reason: string }

export interface ClientRegistryOptions {
  store: ClientStore
  cimd: CimdClients
  /** How long an unused registered client is kept. */
  idleTtlMs: number
  now: () => number
}

export interface Registered {
  client: OAuthClient
  secret?: string
  registrationToken: string
}

const random = (prefix: string) => `${prefix}${randomBytes(32).toString('base64url')}`

export class ClientRegistry {
  readonly #o: ClientRegistryOptions

  constructor(opts: ClientRegistryOptions) {
    this.#o = opts
  }

  async register(m: ClientMetadata): Promise<Registered> {
    const now = this.#o.now()
    const confidential = m.tokenEndpointAuthMethod !== 'none'
    const secret = confidential ? random('mcs_') : undefined
    const registrationToken = random('mrt_')
    const client: OAuthClient = {
      ...m,
      clientId: random('mcc_').slice(0, 36),
      ...(secret ? { secretHash: hashToken(secret) } : {}),
      registrationTokenHash: hashToken(registrationToken),
      issuedAt: now,
      expiresAt: now + this.#o.idleTtlMs,
    }
    await this.#o.store.create(client)
    return { client, secret, registrationToken }
  }

  /** A registered client by id, for the RFC 7592 read endpoint (its registration token checked). */
  async registered(clientId: string, registrationToken: string): Promise<OAuthClient | undefined> {
    const client = await this.#o.store.get(clientId, this.#o.now())
    return client && sameHash(client.registrationTokenHash, hashToken(registrationToken)) ? client : undefined
  }

  async resolve(clientId: unknown): Promise<ClientLookup> {
    if (typeof clientId !== 'string' || clientId === '' || clientId.length > 2000) return { ok: false, reason: 'client_id is missing' }
    if (isUrlClientId(clientId)) {
      const doc = await this.#o.cimd.get(clientId)
      if (!doc.ok) return { ok: false, reason: doc.reason }
      return { ok: true, client: { clientId, ...doc.metadata, documentHost: new URL(clientId).host } }
    }
    const c = await this.#o.store.get(clientId, this.#o.now())
    if (!c) return { ok: false, reason: 'unknown or expired client_id: register again' }
    return { ok: true, client: c }
  }

  /** The client is in use: keep it for another idle period. */
  async used(client: ResolvedClient): Promise<void> {
    if (!client.documentHost) await this.#o.store.touch(client.clientId, this.#o.now() + this.#o.idleTtlMs)
  }

  /**
   * Authenticate the client of a token or revocation request: the client, or why not. A
   * confidential client must prove its secret (Basic or body, RFC 6749 §2.3.1); a public client
   * names itself and must not send a secret (one it does not have cannot be right).
   */
  async authenticate(request: Request, form: URLSearchParams): Promise<ClientLookup & { basic?: boolean }> {
    const basic = parseBasic(request.headers.get('authorization'))
    if (basic === null) return { ok: false, reason: 'the Authorization header is not valid Basic client authentication', basic: true }
    const bodyId = form.get('client_id')
    const bodySecret = form.get('client_secret')
    if (basic && bodySecret !== null) return { ok: false, reason: 'send the client secret once: in Authorization: Basic or in the body, not both', basic: true }
    if (basic && bodyId !== null && bodyId !== basic.id) return { ok: false, reason: 'client_id in the body differs from the one in Authorization', basic: true }
    const id = basic?.id ?? bodyId
    const found = await this.resolve(id)
    if (!found.ok) return { ...found, basic: basic !== undefined }
    const secret = basic?.secret ?? bodySecret
    const client = found.client
    if (client.tokenEndpointAuthMethod === 'none') {
      if (secret !== null && secret !== '') return { ok: false, reason: 'this client is public: it has no secret to send', basic: basic !== undefined }
      return found
    }
    if (secret === null || !client.secretHash || !sameHash(client.secretHash, hashToken(secret)))
      return { ok: false, reason: 'the client secret is missing or wrong', basic: basic !== undefined }
    return found
  }
}

function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/** undefined when absent, null when present but not a well-formed Basic credential. */
function parseBasic(header: string | null): { id: string; secret: string } | undefined | null {
  if (header === null) return undefined
  const m = /^Basic +([A-Za-z0-9+/]+=*)$/i.exec(header.trim())
  if (!m) return /^Basic\b/i.test(header.trim()) ? null : undefined
  const decoded = Buffer.from(m[1]!, 'base64').toString('utf8')
  const colon = decoded.indexOf(':')
  if (colon < 0) return null
  try {
    // RFC 6749 §2.3.1: both parts are form-urlencoded before encoding.
    return { id: decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' ')), secret: decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' ')) }
  } catch {
    return null
  }
}
