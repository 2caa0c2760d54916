/**
 * What the walker lets into the index: `.gitignore` rules at every level, default excludes, and
 * secrets and links never, whatever the rules say.
 */
import { afterAll, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { isIndexable, isSecretName, walkRepository } from '../../src/rag/walker.ts'

const root = mkdtempSync(join(tmpdir(), 'mcprag-walk-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
const write = (rel: string, content = 'x\n') => {
  mkdirSync(dirname(join(root, rel)), { recursive: true })
  writeFileSync(join(root, rel), content)
}

test('nested .gitignore files, negations, default excludes, secrets and links', () => {
  write('.gitignore', '*.log\ngenerated/\n!keep.log\n')
  write('app/.gitignore', 'local.ts\n')
  for (const rel of ['app/main.ts', 'app/local.ts', 'app/deep/util.py', 'debug.log', 'keep.log', 'generated/api.ts', 'node_modules/x/index.js', 'build/out.js', '.git/config', 'vendor/lib.go', 'package-lock.json', 'app/x.min.js', 'app/x.js.map', '.env', '.env.test', 'config/prod.env', 'certs/site.pem', 'certs/site.crt', 'id_ed25519', '.npmrc', 'secrets.yaml', 'photo.png', 'big.ts', 'README.md', 'Dockerfile'])
    write(rel, rel === 'big.ts' ? 'x'.repeat(5000) : 'x\n')
  symlinkSync(join(root, 'app'), join(root, 'app-link'))
  const walked = walkRepository(root, { maxFileBytes: 4096 })
  expect(walked.files.map((f) => f.rel).sort()).toEqual(['Dockerfile', 'README.md', 'app/deep/util.py', 'app/main.ts'])
  expect(walked.skipped).toEqual({ secret: 8, lockfile: 1, minified: 2, gitignored: 2, 'not text': 4, 'too large': 1, symlink: 1 })
  expect(walkRepository(root, { maxFileBytes: 4096, includeBuildDirs: true }).files.map((f) => f.rel)).toContain('build/out.js')
  expect(isIndexable(root, 'app/main.ts', { maxFileBytes: 4096 })).toBe(true)
  for (const rel of ['app/local.ts', 'generated/api.ts', 'node_modules/x/index.js', '.env', 'certs/site.pem']) expect({ rel, ok: isIndexable(root, rel, { maxFileBytes: 4096 }) }).toEqual({ rel, ok: false })
})

test('secret names', () => {
  for (const name of ['.env', '.ENV', '.env.production', 'staging.env', 'server.key', 'cert.P12', 'id_rsa', 'id_rsa.pub', '.git-credentials', 'terraform.tfstate'])
    expect({ name, secret: isSecretName(name) }).toEqual({ name, secret: true })
  for (const name of ['env.ts', 'keys.ts', 'environment.py', 'monkey.go', 'README.md']) expect({ name, secret: isSecretName(name) }).toEqual({ name, secret: false })
})
