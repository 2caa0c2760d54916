/**
 * A cluster on loopback, as the deployment runs it: a Redis of its own (so fault tests can stop
 * it without disturbing anyone), N mcprag processes sharing it, and nginx in front doing plain
 * round robin with no stickiness (`deploy/nginx.conf`'s settings). Everything is torn down by pid.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { localNginxConfig } from '../../deploy/nginx-local.ts'
import { freePort } from './server.ts'
import { sleep, until } from './wait.ts'

export interface Instance {
  index: number
  port: number
  url: string
  proc: ReturnType<typeof Bun.spawn>
  /** What it printed (stdout and stderr), for a failing test's message. */
  output: string[]
}

export interface ClusterOptions {
  instances?: number
  auth?: boolean
  /** Extra environment for every instance. */
  env?: Record<string, string>
}

export class Cluster {
  readonly dir = mkdtempSync(join(tmpdir(), 'mcprag-cluster-'))
  readonly redisPort = freePort()
  readonly nginxPort = freePort()
  readonly instances: Instance[] = []
  readonly secrets = {
    MCPRAG_SECRET: crypto.randomUUID() + crypto.randomUUID(),
    MCPRAG_JWT_SECRET: crypto.randomUUID() + crypto.randomUUID(),
    MCPRAG_TOTP_KEY: crypto.randomUUID() + crypto.randomUUID(),
  }
  #redis: ReturnType<typeof Bun.spawn> | undefined
  #nginx: ReturnType<typeof Bun.spawn> | undefined
  readonly #o: ClusterOptions

  constructor(opts: ClusterOptions = {}) {
    this.#o = opts
  }

  get redisUrl(): string {
    return `redis://127.0.0.1:${this.redisPort}`
  }
  /** The proxy: the URL clients use (and the servers' public URL). */
  get url(): string {
    return `http://127.0.0.1:${this.nginxPort}`
  }

  /** The environment every instance runs with (the CLI uses it too). */
  env(extra: Record<string, string> = {}): Record<string, string> {
    return {
      PATH: process.env.PATH ?? '',
      HOST: '127.0.0.1',
      REDIS_URL: this.redisUrl,
      MCPRAG_PUBLIC_URL: this.url,
      MCPRAG_AUTH: this.#o.auth ? 'on' : 'off',
      MCPRAG_FIXTURES: 'conformance',
      MCPRAG_DATA_DIR: join(this.dir, 'data'),
      MCPRAG_AUDIT_STDOUT: 'off',
      MCPRAG_TRUSTED_PROXIES: '1',
      MCPRAG_RATE_AUTH_ADDRESS: '10000/15m',
      MCPRAG_RATE_LOGIN_EMAIL: '100/15m',
      MCPRAG_RATE_REQUESTS_ADDRESS: '100000/1m',
      MCPRAG_REDIS_READY_GRACE_S: '2',
      ...this.secrets,
      ...this.#o.env,
      ...extra,
    }
  }

  async start(): Promise<this> {
    await this.startRedis()
    const n = this.#o.instances ?? 3
    const ports = Array.from({ length: n }, () => freePort())
    await Promise.all(ports.map((port, index) => this.#startInstance(index, port)))
    await this.#startNginx(ports)
    return this
  }

  async startRedis(): Promise<void> {
    this.#redis = Bun.spawn(['redis-server', '--port', String(this.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdout: 'ignore', stderr: 'ignore' })
    await until(async () => (await this.redis('PING').catch(() => '')) === 'PONG', 10_000, 'redis-server to answer')
  }

  /** `SHUTDOWN NOSAVE` (everything in it is lost), then a new Redis on the same port after `downMs`. */
  async restartRedis(downMs: number): Promise<void> {
    await this.redis('SHUTDOWN', 'NOSAVE').catch(() => {})
    await this.#redis?.exited
    await sleep(downMs)
    await this.startRedis()
  }

  /** One command through redis-cli (kept apart from the servers' own connections). */
  async redis(...args: string[]): Promise<string> {
    const proc = Bun.spawn(['redis-cli', '-p', String(this.redisPort), ...args], { stdout: 'pipe', stderr: 'pipe' })
    const out = (await new Response(proc.stdout).text()).trim()
    if ((await proc.exited) !== 0) throw new Error(`redis-cli ${args.join(' ')} failed`)
    return out
  }

  kill(index: number, signal: NodeJS.Signals | number = 'SIGKILL'): Promise<number> {
    const i = this.instances[index]!
    i.proc.kill(signal)
    return i.proc.exited
  }

  async stop(): Promise<void> {
    for (const i of this.instances) i.proc.kill('SIGKILL')
    this.#nginx?.kill('SIGKILL')
    this.#redis?.kill('SIGKILL')
    await Promise.all([...this.instances.map((i) => i.proc.exited), this.#nginx?.exited, this.#redis?.exited])
    rmSync(this.dir, { recursive: true, force: true })
  }

  /** What every instance printed, for an assertion message. */
  logs(): string {
    return this.instances.map((i) => `--- instance ${i.index} (:${i.port})\n${i.output.join('')}`).join('\n')
  }

  async #startInstance(index: number, port: number): Promise<void> {
    // A data directory each: what an instance keeps there (the code index) is its own.
    const proc = Bun.spawn(['bun', 'src/index.ts'], { env: this.env({ PORT: String(port), MCPRAG_DATA_DIR: join(this.dir, `data-${index}`) }), stdout: 'pipe', stderr: 'pipe' })
    const instance: Instance = { index, port, url: `http://127.0.0.1:${port}`, proc, output: [] }
    for (const stream of [proc.stdout, proc.stderr]) void collect(stream as ReadableStream<Uint8Array>, instance.output)
    this.instances[index] = instance
    try {
      await until(async () => (await fetch(`${instance.url}/ready`).catch(() => undefined))?.status === 200, 20_000, `instance ${index} to be ready`)
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${instance.output.join('')}`)
    }
  }

  async #startNginx(ports: number[]): Promise<void> {
    for (const d of ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) Bun.spawnSync(['mkdir', '-p', join(this.dir, d)])
    const conf = localNginxConfig({ dir: this.dir, listen: this.nginxPort, upstreams: ports })
    writeFileSync(join(this.dir, 'nginx.conf'), conf)
    this.#nginx = Bun.spawn(['nginx', '-p', this.dir, '-c', join(this.dir, 'nginx.conf')], { stdout: 'ignore', stderr: 'pipe' })
    await until(async () => (await fetch(`${this.url}/health`).catch(() => undefined))?.status === 200, 10_000, 'nginx to proxy')
  }
}

async function collect(stream: ReadableStream<Uint8Array>, into: string[]): Promise<void> {
  const decoder = new TextDecoder()
  for await (const chunk of stream) into.push(decoder.decode(chunk))
}
