/**
 * Code present on every machine that runs the bench: the TypeScript sources shipped in this
 * project's node_modules, Debian's Python standard library, large JavaScript in node_modules.
 */
import { join } from 'node:path'

const nm = join(process.cwd(), 'node_modules')

/** Debian's Python standard library: the newest /usr/lib/python3.N there is. */
export function pythonStdlib(): string {
  const found = Bun.spawnSync(['sh', '-c', 'ls -d /usr/lib/python3.* 2>/dev/null | sort -V | tail -1']).stdout.toString().trim()
  return found || '/usr/lib/python3'
}

/** TypeScript sources (not declarations) that packages ship. */
export const TYPESCRIPT_SOURCES = [
  { name: 'zod', path: `${nm}/zod/src` },
  { name: 'ajv', path: `${nm}/ajv/lib` },
  { name: 'noble-hashes', path: `${nm}/@noble/hashes/src` },
]

/** Roots for the scale corpus, in the order they are added until it passes a million lines. */
export const SCALE_ROOTS = () => [
  { name: 'stdlib', path: pythonStdlib() },
  { name: 'typescript', path: `${nm}/typescript/lib` },
  { name: 'playwright', path: `${nm}/playwright-core/lib` },
  { name: 'inspector', path: `${nm}/@modelcontextprotocol/inspector` },
  { name: 'eslint', path: `${nm}/eslint/lib` },
  { name: 'ts-eslint', path: `${nm}/@typescript-eslint` },
  { name: 'mcp-client', path: `${nm}/@modelcontextprotocol/client` },
  { name: 'undici', path: `${nm}/undici` },
  { name: 'zod', path: `${nm}/zod` },
  { name: 'ajv', path: `${nm}/ajv` },
  { name: 'mcp-sdk', path: `${nm}/@modelcontextprotocol/sdk` },
]
