/**
 * The MCP Inspector CLI as a test client. It needs Node ≥ 22.19; the devDependency `node` (npm
 * package node@22) installs one into node_modules, so `bun install` provides everything and a test
 * downloads nothing. If that binary is missing or too old, it falls back to `npx -p node@22`
 * (slower: a first run fetches from the npm registry).
 */
import { existsSync } from 'node:fs'

const LOCAL_NODE = 'node_modules/node/bin/node'
const LOCAL_INSPECTOR = 'node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js'
const INSPECTOR_VERSION = '2.12.0'

export interface Run {
  code: number
  out: string
  err: string
}

/** Run a command to its end. The Inspector keeps no secrets on disk (memory store) and sees CI=true. */
export async function run(cmd: string[]): Promise<Run> {
  const proc = Bun.spawn(cmd, { stdout: 'pipe', stderr: 'pipe', stdin: 'ignore', env: { ...process.env, CI: 'true', MCP_INSPECTOR_SECRET_STORE: 'memory' } })
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { code, out, err }
}

/** `node <inspector>` with a Node that satisfies the Inspector's engines field. */
export async function inspectorCommand(): Promise<string[]> {
  if (existsSync(LOCAL_NODE) && existsSync(LOCAL_INSPECTOR)) {
    const version = (await run([LOCAL_NODE, '--version'])).out.trim()
    const [major = 0, minor = 0] = version.slice(1).split('.').map(Number)
    if (major > 22 || (major === 22 && minor >= 19)) return [LOCAL_NODE, LOCAL_INSPECTOR]
  }
  return ['npx', '--yes', '-p', 'node@22', '-p', `@modelcontextprotocol/inspector@${INSPECTOR_VERSION}`, '--', 'inspector']
}
