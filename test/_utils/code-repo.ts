/**
 * A small repository on disk for the code-index tests: TypeScript, Python and Go sources that call
 * and import each other, plus everything that must never be indexed — planted secrets (`.env`,
 * a key), a dependency folder, build output, a `.gitignore`d folder, a binary, and symbolic links
 * that lead outside the root. Each planted file holds a word found nowhere else.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { startTestServer, type TestServer } from './server.ts'

export interface CodeRepo {
  root: string
  /** A folder beside the root that links point into. */
  outside: string
  write(rel: string, content: string): void
  remove(): void
}

/** Words that appear only in files that must stay out of the index. */
export const PLANTED = ['plantedEnvSecret', 'plantedEnvLocal', 'plantedPrivateKey', 'plantedDependency', 'plantedBuildOutput', 'plantedIgnored', 'plantedOutsideFile', 'plantedOutsideDir', 'plantedBinary']

export const FILES: Record<string, string> = {
  'src/auth/crypto.ts': `/** Keyed hash of a counter, as the authenticator app computes it. */
export function hmacCounter(key: string, counter: number): string {
  return Bun.hash(key + counter).toString(16).slice(-6)
}
`,
  'src/auth/totp.ts': `import { hmacCounter } from './crypto.ts'

/** Checks a time-based one-time password against the shared secret, one step either side. */
export function verifyTotp(secret: string, code: string, now: number): boolean {
  for (let step = -1; step <= 1; step++) {
    if (hmacCounter(secret, Math.floor(now / 30000) + step) === code) return true
  }
  return false
}
`,
  'src/auth/login.ts': `import { verifyTotp } from './totp.ts'

export interface LoginAttempt {
  email: string
  code: string
}

/** Completes a sign-in once the second factor is right. */
export function completeLogin(attempt: LoginAttempt, secret: string): string {
  if (!verifyTotp(secret, attempt.code, Date.now())) throw new Error('wrong code')
  return \`signed in: \${attempt.email}\`
}
`,
  'src/auth/totp.test.ts': `import { verifyTotp } from './totp.ts'

test('a wrong code is refused', () => {
  expect(verifyTotp('k', '000000', 0)).toBe(false)
})
`,
  'billing/invoice.py': `"""Invoices and their totals."""
from decimal import Decimal


class Invoice:
    """A customer invoice made of line items."""

    def __init__(self, lines):
        self.lines = lines

    def total(self):
        """Sum of the line amounts, before tax."""
        return sum((line.amount for line in self.lines), Decimal(0))


def render_invoice_pdf(invoice, path):
    """Write the invoice as a PDF document to the given path."""
    if not invoice.lines:
        raise ValueError("empty invoice")
    return path
`,
  'server/router.go': `package server

import "net/http"

// Router sends each request path to its handler.
type Router struct {
	routes map[string]http.HandlerFunc
}

// NewRouter makes an empty router.
func NewRouter() *Router {
	return &Router{routes: map[string]http.HandlerFunc{}}
}

// Handle registers the handler for an exact path.
func (r *Router) Handle(path string, h http.HandlerFunc) {
	if path == "" || h == nil {
		panic("bad route")
	}
	r.routes[path] = h
}
`,
  'README.md': '# Fixture\n\nA repository for the code index tests.\n',
  '.gitignore': 'ignored/\n',
  '.env': 'TOKEN=plantedEnvSecret\n',
  '.env.local': 'TOKEN=plantedEnvLocal\n',
  'keys/server.key': '-----BEGIN PRIVATE KEY-----\nplantedPrivateKey\n-----END PRIVATE KEY-----\n',
  'node_modules/leftpad/index.js': 'module.exports = function plantedDependency() {}\n',
  'dist/bundle.js': 'function plantedBuildOutput() {}\n',
  'ignored/skip.ts': 'export const plantedIgnored = 1\n',
}

export function createCodeRepo(): CodeRepo {
  const base = mkdtempSync(join(tmpdir(), 'mcprag-code-'))
  const root = join(base, 'repo')
  const outside = join(base, 'outside')
  const write = (rel: string, content: string | Uint8Array) => {
    const abs = join(root, rel)
    mkdirSync(dirname(abs), { recursive: true })
    writeFileSync(abs, content)
  }
  for (const [rel, content] of Object.entries(FILES)) write(rel, content)
  write('src/blob.ts', new Uint8Array([0x65, 0x78, 0x00, 0x01, ...new TextEncoder().encode('plantedBinary')]))
  mkdirSync(outside, { recursive: true })
  writeFileSync(join(outside, 'secret.ts'), 'export const plantedOutsideFile = 1\n')
  mkdirSync(join(outside, 'dir'))
  writeFileSync(join(outside, 'dir', 'inner.ts'), 'export const plantedOutsideDir = 1\n')
  symlinkSync(join(outside, 'secret.ts'), join(root, 'src', 'linked.ts'))
  symlinkSync(join(outside, 'dir'), join(root, 'linked-dir'))
  return { root, outside, write: (rel, content) => write(rel, content), remove: () => rmSync(base, { recursive: true, force: true }) }
}

/** A server (auth off, no fixtures) indexing a fresh fixture repository, with its own data directory. */
export async function startCodeServer(env: Record<string, string> = {}): Promise<{ repo: CodeRepo; server: TestServer; stop(): Promise<void> }> {
  const repo = createCodeRepo()
  const dataDir = mkdtempSync(join(tmpdir(), 'mcprag-data-'))
  const server = await startTestServer({ MCPRAG_INDEX_ROOTS: `fixture=${repo.root}`, MCPRAG_DATA_DIR: dataDir, MCPRAG_FIXTURES: 'none', ...env })
  return {
    repo,
    server,
    async stop() {
      await server.stop()
      repo.remove()
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}
