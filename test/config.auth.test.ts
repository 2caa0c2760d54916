/**
 * Auth configuration: unsafe combinations stop the boot with the variable to fix; in development
 * missing keys are generated once and kept private in the data directory.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ConfigError, loadConfig } from '../src/config.ts'

const dirs: string[] = []
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'mcprag-config-'))
  dirs.push(d)
  return d
}
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

const problems = (env: Record<string, string>): string[] => {
  try {
    loadConfig(env)
  } catch (err) {
    if (err instanceof ConfigError) return err.problems
    throw err
  }
  return []
}
const KEYS = { MCPRAG_JWT_SECRET: 'a'.repeat(40), MCPRAG_TOTP_KEY: 'b'.repeat(40) }

test('authentication is on by default; MCPRAG_AUTH=off is refused unless the server binds loopback', () => {
  expect(loadConfig({ MCPRAG_DATA_DIR: tmp(), ...KEYS }).auth).toBeDefined()
  expect(loadConfig({ MCPRAG_AUTH: 'off' }).auth).toBeUndefined()
  expect(loadConfig({ MCPRAG_AUTH: 'off', HOST: '127.0.0.2' }).auth).toBeUndefined()
  for (const HOST of ['0.0.0.0', '::', '10.0.0.5'])
    expect(problems({ MCPRAG_AUTH: 'off', HOST })).toEqual([expect.stringContaining('MCPRAG_AUTH=off is refused')])
  expect(problems({ MCPRAG_AUTH: 'maybe' })[0]).toContain('MCPRAG_AUTH="maybe" is invalid')
})

test('in development missing keys are generated once into the data dir with mode 0600, and said so', () => {
  const dir = tmp()
  const first = loadConfig({ MCPRAG_DATA_DIR: dir })
  expect(first.auth!.notes).toHaveLength(2)
  expect(first.auth!.notes[0]).toContain('MCPRAG_JWT_SECRET is not set: generated one')
  for (const f of ['jwt-secret', 'totp-key']) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600)
  const second = loadConfig({ MCPRAG_DATA_DIR: dir })
  expect(second.auth!.jwtSecret).toBe(first.auth!.jwtSecret)
  expect(second.auth!.totpKey).toBe(first.auth!.totpKey)
  expect(second.auth!.notes).toEqual([])
  expect(first.auth!.jwtSecret).not.toBe(first.auth!.totpKey)
})

test('a generated key file others can read is refused', () => {
  const dir = tmp()
  writeFileSync(join(dir, 'jwt-secret'), 'c'.repeat(64), { mode: 0o644 })
  expect(problems({ MCPRAG_DATA_DIR: dir, MCPRAG_TOTP_KEY: 'b'.repeat(40) })).toEqual([expect.stringContaining('readable by other users')])
})

test('production needs real keys and a public URL when not on loopback; weak keys are refused', () => {
  const p = problems({ NODE_ENV: 'production', HOST: '0.0.0.0' })
  expect(p.some((x) => x.startsWith('MCPRAG_JWT_SECRET is not set'))).toBe(true)
  expect(p.some((x) => x.startsWith('MCPRAG_TOTP_KEY is not set'))).toBe(true)
  expect(p.some((x) => x.startsWith('MCPRAG_PUBLIC_URL is not set'))).toBe(true)
  expect(problems({ ...KEYS, MCPRAG_JWT_SECRET: 'changeme' })[0]).toContain('MCPRAG_JWT_SECRET is too weak')
  expect(problems({ ...KEYS, MCPRAG_TOTP_KEY: 'short' })[0]).toContain('MCPRAG_TOTP_KEY is too weak')
  expect(problems({ NODE_ENV: 'production', HOST: '0.0.0.0', MCPRAG_PUBLIC_URL: 'https://mcp.example.com', ...KEYS })).toEqual([])
})

test('the public URL must be a bare origin; it joins the allowed origins and hosts', () => {
  expect(problems({ ...KEYS, MCPRAG_PUBLIC_URL: 'https://mcp.example.com/mcp' })[0]).toContain('MCPRAG_PUBLIC_URL="https://mcp.example.com/mcp" is invalid')
  expect(problems({ ...KEYS, MCPRAG_PUBLIC_URL: 'ftp://x' })[0]).toContain('is invalid')
  const c = loadConfig({ ...KEYS, MCPRAG_PUBLIC_URL: 'https://MCP.example.com/' })
  expect(c.auth!.publicUrl).toBe('https://mcp.example.com')
  expect(c.allowedOrigins).toContain('https://mcp.example.com')
  expect(c.allowedHosts).toContain('mcp.example.com')
  expect(loadConfig({ ...KEYS, PORT: '4000' }).auth!.publicUrl).toBe('http://127.0.0.1:4000')
  expect(loadConfig({ ...KEYS, PORT: '0' }).auth!.publicUrl).toBeUndefined()
})

test('rate limits, signup, admin emails and SMTP are parsed or refused by name', () => {
  const c = loadConfig({ ...KEYS, MCPRAG_RATE_LOGIN_EMAIL: '3/10m', MCPRAG_SIGNUP: 'open', MCPRAG_ADMIN_EMAILS: 'Boss@Example.com, ops@example.com', SMTP_URL: 'smtp://127.0.0.1:2525' })
  expect(c.auth).toMatchObject({ signup: 'open', adminEmails: ['boss@example.com', 'ops@example.com'], smtpUrl: 'smtp://127.0.0.1:2525' })
  expect(c.auth!.rateLimits.loginPerEmail).toEqual({ max: 3, windowMs: 600_000 })
  expect(c.auth!.rateLimits.toolCallsPerUser).toEqual({ max: 600, windowMs: 60_000 })
  expect(problems({ ...KEYS, MCPRAG_RATE_TOOLS_USER: 'lots' })[0]).toContain('MCPRAG_RATE_TOOLS_USER="lots" is invalid')
  expect(problems({ ...KEYS, MCPRAG_SIGNUP: 'anyone' })[0]).toContain('MCPRAG_SIGNUP="anyone" is invalid')
  expect(problems({ ...KEYS, MCPRAG_ADMIN_EMAILS: 'not-an-email' })[0]).toContain('MCPRAG_ADMIN_EMAILS entry "not-an-email"')
  expect(problems({ ...KEYS, SMTP_URL: 'http://mail' })[0]).toContain('SMTP_URL is invalid')
  expect(problems({ ...KEYS, MCPRAG_LOGIN_TOKEN_TTL_S: '3600' })[0]).toContain('MCPRAG_LOGIN_TOKEN_TTL_S="3600" is invalid')
})

test('the limits of issue 13 have safe defaults, and a bad value stops the boot naming the variable', () => {
  const c = loadConfig({ MCPRAG_DATA_DIR: tmp(), ...KEYS })
  expect(c.json).toEqual({ maxBytes: 1024 * 1024, maxDepth: 64, maxKeys: 4096 })
  expect([c.maxClientInfoBytes, c.sessionLimits, c.streamLimits, c.maxBatchItems]).toEqual([16 * 1024, { perUser: 32, perAddress: 256 }, { perUser: 32, perAddress: 128 }, 100])
  expect([c.sseMaxBufferedBytes, c.streamLogMaxBytes, c.ipv6PrefixLength, c.wsMaxWaitingBytes]).toEqual([4 * 1024 * 1024, 1024 * 1024, 64, 8 * 1024 * 1024])
  expect([c.auditRetentionMs, c.auditAggregateMs]).toEqual([90 * 86_400_000, 60_000])
  expect(c.auth!.rateLimits.loginPerMailbox).toEqual({ max: 30, windowMs: 3_600_000 })
  const bad = problems({
    MCPRAG_DATA_DIR: tmp(),
    ...KEYS,
    MCPRAG_MAX_JSON_DEPTH: '2',
    MCPRAG_MAX_SESSIONS_PER_USER: '0',
    MCPRAG_MAX_STREAMS_PER_ADDRESS: 'many',
    MCPRAG_IPV6_PREFIX_LENGTH: '129',
    MCPRAG_AUDIT_RETENTION_DAYS: '0',
    MCPRAG_RATE_LOGIN_MAILBOX: 'lots',
    MCPRAG_WS_MAX_WAITING_BYTES: '1000',
  })
  for (const name of ['MCPRAG_MAX_JSON_DEPTH', 'MCPRAG_MAX_SESSIONS_PER_USER', 'MCPRAG_MAX_STREAMS_PER_ADDRESS', 'MCPRAG_IPV6_PREFIX_LENGTH', 'MCPRAG_AUDIT_RETENTION_DAYS', 'MCPRAG_RATE_LOGIN_MAILBOX', 'MCPRAG_WS_MAX_WAITING_BYTES'])
    expect(bad).toContainEqual(expect.stringContaining(`${name}=`))
  expect(problems({ MCPRAG_DATA_DIR: tmp(), ...KEYS, MCPRAG_ADMIN_EMAILS: 'root\u0000@example.com' })).toEqual([expect.stringContaining('is not an acceptable email address')])
})
