/**
 * Import-boundary guard: the layering the README describes, checked on every run.
 */
import { expect, test } from 'bun:test'

const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm

async function importsOf(dir: string): Promise<{ file: string; spec: string }[]> {
  const out: { file: string; spec: string }[] = []
  for await (const file of new Bun.Glob(`${dir}/**/*.ts`).scan('.')) {
    const text = await Bun.file(file).text()
    for (const m of text.matchAll(IMPORT)) out.push({ file, spec: (m[1] ?? m[2])! })
  }
  return out
}

test('the protocol core imports no framework, runtime, database or adapter', async () => {
  const bad = (await importsOf('src/core')).filter(
    ({ spec }) =>
      /^(elysia|@elysiajs\/|redis|bun($|:)|nodemailer)/.test(spec) ||
      /\/(transports|http|auth|mail|stores)\//.test(spec) ||
      /\.\.\/(server|config)\.ts$/.test(spec),
  )
  expect(bad).toEqual([])
})

test('the core reads no environment and no Bun globals', async () => {
  const offenders: string[] = []
  for await (const file of new Bun.Glob('src/core/**/*.ts').scan('.')) {
    const text = await Bun.file(file).text()
    if (/process\.env|Bun\.|import\.meta\.env/.test(text)) offenders.push(file)
  }
  expect(offenders).toEqual([])
})

test('only config.ts reads the environment', async () => {
  const offenders: string[] = []
  for await (const file of new Bun.Glob('src/**/*.ts').scan('.')) {
    if (file === 'src/config.ts' || file === 'src/cli.ts') continue
    const text = await Bun.file(file).text()
    if (/process\.env|Bun\.env/.test(text)) offenders.push(file)
  }
  expect(offenders).toEqual([])
})

test('only stores/open-stores.ts picks implementations of the seams', async () => {
  const picks = (await importsOf('src')).filter(
    ({ file, spec }) => (/\/(memory|redis|sqlite)-[a-z-]+\.ts$/.test(spec) || /\/stores\/(memory|redis|sqlite)\//.test(spec)) && !file.startsWith('src/stores/'),
  )
  expect(picks).toEqual([])
})

test('the seams the core owns are interfaces in the core; implementations live under stores/', async () => {
  const reversed = (await importsOf('src/core')).filter(({ spec }) => /\/stores\//.test(spec))
  expect(reversed).toEqual([])
})
