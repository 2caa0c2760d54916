/**
 * @module cli
 * The operator command: `bun run mcprag user <command>`. It works on the same database as the
 * server (`MCPRAG_DATA_DIR`) and reads the same environment, so it can run while the server does.
 * The client commands (`search`, `analyze`, `generate`, `tools`, `call`, `login`) talk to a running
 * server instead: see `cli/client.ts`.
 *
 *   user create <email> [--tier public|user|admin]   add a user (default tier: user)
 *   user set-tier <email> <tier>                     change a user's tier (applies on their next request)
 *   user token <email> [--ttl 30d]                   mint a bearer token for scripts (prints only the token)
 *   user list                                        list users
 *   user revoke <email>                              sign a user out everywhere
 *   user reset-totp <email>                          forget a user's authenticator (they enrol again)
 */
import { sessionTokens } from './auth/auth.ts'
import { MAX_TOKEN_TTL_S } from './auth/jwt.ts'
import { parseEmail } from './auth/email.ts'
import { AuthSessions } from './auth/sessions.ts'
import { CLIENT_COMMANDS, CLIENT_USAGE, ClientUsageError, runClient } from './cli/client.ts'
import { ConfigError, loadConfig } from './config.ts'
import type { Tier } from './core/types.ts'
import { openAuthStores } from './stores/open-stores.ts'

const USAGE = `usage: bun run mcprag user <command>
  user create <email> [--tier public|user|admin]
  user set-tier <email> <public|user|admin>
  user token <email> [--ttl <n>s|m|h|d]   (default 30d, at most 90d)
  user list
  user revoke <email>
  user reset-totp <email>`

class UsageError extends Error {}

const TIERS: Tier[] = ['public', 'user', 'admin']

function tierOf(value: string | undefined): Tier {
  if (!TIERS.includes(value as Tier)) throw new UsageError(`tier must be one of ${TIERS.join(', ')} (got "${value ?? ''}")`)
  return value as Tier
}

function ttlSeconds(value: string): number {
  const m = /^(\d+)([smhd])$/.exec(value)
  if (!m) throw new UsageError(`--ttl must look like 30d, 12h, 90m or 3600s (got "${value}")`)
  const s = Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as 's' | 'm' | 'h' | 'd']
  if (s < 60 || s > MAX_TOKEN_TTL_S) throw new UsageError(`--ttl must be between 60s and ${MAX_TOKEN_TTL_S / 86_400}d`)
  return s
}

/** `--name value` options and positional arguments. */
function parseArgs(args: string[]): { positional: string[]; options: Record<string, string> } {
  const positional: string[] = []
  const options: Record<string, string> = {}
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!
    if (a.startsWith('--')) {
      const value = args[++i]
      if (value === undefined) throw new UsageError(`${a} needs a value`)
      options[a.slice(2)] = value
    } else positional.push(a)
  }
  return { positional, options }
}

async function main(argv: string[]): Promise<number> {
  const [group, command, ...rest] = argv
  if ((CLIENT_COMMANDS as readonly string[]).includes(group ?? '')) return runClient(argv)
  if (group !== 'user' || !command) throw new UsageError(`${USAGE}\n\n${CLIENT_USAGE}`)
  const { positional, options } = parseArgs(rest)
  const config = loadConfig()
  if (!config.auth) throw new UsageError('MCPRAG_AUTH=off: there are no users to manage')
  for (const note of config.auth.notes) console.error(`note: ${note}`)
  const stores = await openAuthStores(config)
  try {
    const user = async (email: string | undefined) => {
      const u = await stores.users.getByEmail(parseEmail(email))
      if (!u) throw new UsageError(`no user ${email}: create it with "user create ${email}"`)
      return u
    }
    switch (command) {
      case 'create': {
        const u = await stores.users.create({ email: parseEmail(positional[0]), tier: tierOf(options.tier ?? 'user'), now: Date.now() })
        console.log(`created ${u.email} (tier ${u.tier}, id ${u.id})`)
        return 0
      }
      case 'set-tier': {
        const u = await user(positional[0])
        const tier = tierOf(positional[1])
        await stores.users.setTier(u.id, tier)
        console.log(`${u.email}: tier ${u.tier} -> ${tier}`)
        return 0
      }
      case 'token': {
        const u = await user(positional[0])
        const publicUrl = config.auth.publicUrl
        if (!publicUrl) throw new UsageError('set MCPRAG_PUBLIC_URL (or PORT) to the server\'s URL: tokens are bound to it')
        const sessions = new AuthSessions({
          store: stores.authSessions,
          tokens: sessionTokens(config.auth.jwtSecret, () => publicUrl),
          now: Date.now,
          ttlMs: config.auth.sessionTokenTtlMs,
          mfaWindowMs: config.auth.mfaWindowMs,
          onRevoked: () => {},
        })
        const issued = await sessions.start(u, ttlSeconds(options.ttl ?? '30d') * 1000)
        console.error(`token for ${u.email} (tier ${u.tier}), valid until ${new Date(issued.expiresAt).toISOString()}; revoke with "user revoke ${u.email}"`)
        console.log(issued.token)
        return 0
      }
      case 'list': {
        let after: string | undefined
        do {
          const page = await stores.users.list({ limit: 500, after })
          for (const u of page.users) {
            const totp = (await stores.totp.get(u.id))?.secretBox !== undefined ? 'totp' : '-'
            console.log(`${u.email}\t${u.tier}\t${totp}\t${u.id}\t${new Date(u.createdAt).toISOString()}`)
          }
          after = page.next
        } while (after !== undefined)
        return 0
      }
      case 'revoke': {
        const u = await user(positional[0])
        const ids = await stores.authSessions.revokeUser(u.id, Date.now())
        console.log(`${u.email}: revoked ${ids.length} session(s)`)
        return 0
      }
      case 'reset-totp': {
        const u = await user(positional[0])
        await stores.totp.delete(u.id)
        console.log(`${u.email}: authenticator removed; they enrol again with POST /auth/totp/enroll`)
        return 0
      }
      default:
        throw new UsageError(USAGE)
    }
  } finally {
    await stores.close()
  }
}

try {
  process.exitCode = await main(process.argv.slice(2))
} catch (err) {
  if (err instanceof UsageError || err instanceof ClientUsageError || err instanceof ConfigError) {
    console.error(err.message)
    process.exitCode = 2
  } else {
    console.error(err instanceof Error ? err.message : err)
    process.exitCode = 1
  }
}
