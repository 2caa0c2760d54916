/**
 * The deployment files: compose runs Redis with AOF and noeviction, three replicas sharing it
 * with the same secrets, and nginx with deploy/nginx.conf (which the cluster tests run too, so its
 * proxy settings are exercised there). Docker itself cannot run on these machines.
 */
import { expect, test } from 'bun:test'

const compose = Bun.YAML.parse(await Bun.file('compose.yaml').text()) as {
  services: Record<string, { command?: string[]; environment?: Record<string, string>; env_file?: string[]; deploy?: { replicas?: number }; volumes?: string[]; image?: string; build?: string }>
}

test('compose: Redis persists (AOF) and never evicts; three replicas share it and one env file; nginx mounts deploy/nginx.conf', async () => {
  const { redis, mcprag, nginx } = compose.services
  expect(redis!.command).toEqual(expect.arrayContaining(['--appendonly', 'yes', '--maxmemory-policy', 'noeviction']))
  expect(mcprag!.deploy?.replicas).toBe(3)
  expect(mcprag!.environment?.REDIS_URL).toBe('redis://redis:6379')
  expect(mcprag!.env_file).toEqual(['deploy/mcprag.env'])
  expect(nginx!.volumes).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro')
  const example = await Bun.file('deploy/mcprag.env.example').text()
  for (const name of ['MCPRAG_SECRET', 'MCPRAG_JWT_SECRET', 'MCPRAG_TOTP_KEY', 'MCPRAG_PUBLIC_URL']) expect(example).toContain(`${name}=`)
})

test('the Dockerfile runs the Bun version we develop with, as PID 1, with no volume baked in', async () => {
  const dockerfile = await Bun.file('Dockerfile').text()
  const pinned = [...dockerfile.matchAll(/^FROM oven\/bun:([\d.]+)-slim/gm)].map((m) => m[1])
  expect(pinned).toEqual([Bun.version, Bun.version])
  expect(dockerfile).toContain('CMD ["bun", "src/index.ts"]')
  expect(dockerfile).not.toMatch(/^VOLUME/m)
})

test('nginx: round robin with no stickiness, SSE unbuffered, WebSocket upgrade, long reads, retry on refused connections', async () => {
  const conf = await Bun.file('deploy/nginx.conf').text()
  expect(conf).not.toMatch(/ip_hash|sticky|\bhash\s/)
  for (const line of ['proxy_buffering off;', 'proxy_set_header Upgrade $http_upgrade;', 'proxy_read_timeout 3600s;', 'proxy_next_upstream error timeout http_502 http_503;', 'proxy_http_version 1.1;'])
    expect(conf).toContain(line)
})
