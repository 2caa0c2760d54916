/**
 * @module bench/lib/profile
 * Reads a `.cpuprofile` written by `bun --cpu-prof` and says where the time went: self time per
 * function, self time per area (mcprag's transports, core, stores; Elysia; ajv; Bun's runtime and
 * natives; garbage collection; idle), and the inclusive time of a few functions of interest
 * (named `function@file-fragment`).
 */
import { readFileSync } from 'node:fs'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
}
interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}
interface CpuProfile {
  nodes: ProfileNode[]
  samples: number[]
  timeDeltas: number[]
}

export interface ProfileSummary {
  /** Sampled time, ms (idle excluded), within the window (see `analyseProfile`). */
  busyMs: number
  idleMs: number
  /** Length of the window, ms. */
  windowMs: number
  areas: { area: string; ms: number; share: number }[]
  functions: { name: string; where: string; area: string; ms: number; share: number }[]
  inclusive: { name: string; ms: number; share: number }[]
}

const ROOT = process.cwd()

function shortUrl(url: string): string {
  const at = url.indexOf('/node_modules/')
  if (at >= 0) return url.slice(at + 1)
  return url.replace(/^file:\/\//, '').replace(`${ROOT}/`, '')
}

const NATIVE_OUTSIDE_JS = 'native, outside JS (HTTP I/O, event loop)'

/** Which part of the stack a frame belongs to. `topLevel`: the frame is a child of the root. */
export function areaOf(frame: CallFrame, topLevel = false): string {
  // Samples with no JS frame at all: Bun's native HTTP server, socket I/O, the event loop.
  if (topLevel && frame.functionName === '' && frame.url === '') return NATIVE_OUTSIDE_JS
  const url = shortUrl(frame.url)
  const name = frame.functionName
  if (name === '(idle)') return 'idle'
  if (name === '(garbage collector)') return 'garbage collector'
  if (name === '(program)' || name === '(root)') return NATIVE_OUTSIDE_JS
  if (url.startsWith('src/transports/')) return 'mcprag transports'
  if (url.startsWith('src/core/')) return 'mcprag core'
  if (url.startsWith('src/store/') || url.startsWith('src/bus/')) return 'mcprag stores + bus'
  if (url.startsWith('src/')) return 'mcprag other'
  if (url.includes('node_modules/elysia')) return 'Elysia'
  if (url.includes('node_modules/ajv')) return 'ajv'
  if (url.includes('node_modules/')) return 'other packages'
  if (url.startsWith('bench/')) return 'bench entry'
  return 'Bun runtime + builtins'
}

/**
 * Summarise a profile. Only the samples between the first and the last one whose stack holds a
 * frame of `markerUrl` (the request handler) count, so start-up (schema compilation, imports)
 * and shutdown stay out.
 */
export function analyseProfile(path: string, interesting: string[], markerUrl: string): ProfileSummary {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const n of profile.nodes) {
    byId.set(n.id, n)
    for (const c of n.children ?? []) parent.set(c, n.id)
  }
  const rootId = profile.nodes[0]?.id
  const marked = new Map<number, boolean>()
  const isMarked = (id: number): boolean => {
    let v = marked.get(id)
    if (v === undefined) {
      const p = parent.get(id)
      v = byId.get(id)!.callFrame.url.includes(markerUrl) || (p !== undefined && isMarked(p))
      marked.set(id, v)
    }
    return v
  }
  let first = profile.samples.findIndex((id) => isMarked(id))
  let last = profile.samples.findLastIndex((id) => isMarked(id))
  if (first < 0) [first, last] = [0, profile.samples.length - 1]
  let windowUs = 0
  const self = new Map<string, { name: string; where: string; area: string; us: number }>()
  const areas = new Map<string, number>()
  // `name@file` (file: a fragment of the URL) so that two functions called `check` stay apart.
  const wanted = interesting.map((w) => {
    const [name, file] = w.split('@') as [string, string | undefined]
    return { key: w, name, file }
  })
  const inclusive = new Map<string, number>(interesting.map((n) => [n, 0]))
  let idleUs = 0
  let busyUs = 0
  // timeDeltas[i] is the time since the previous sample; attribute it to sample i.
  for (let i = first + 1; i <= last; i++) {
    const node = byId.get(profile.samples[i]!)
    const dt = profile.timeDeltas[i] ?? 0
    windowUs += dt
    if (!node || dt <= 0) continue
    const area = areaOf(node.callFrame, parent.get(node.id) === rootId)
    if (area === 'idle') {
      idleUs += dt
      continue
    }
    busyUs += dt
    areas.set(area, (areas.get(area) ?? 0) + dt)
    const f = node.callFrame
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : ''
    const key = `${f.functionName}@${where}`
    const entry = self.get(key) ?? { name: f.functionName || '(anonymous)', where, area, us: 0 }
    entry.us += dt
    self.set(key, entry)
    const seen = new Set<string>()
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const frame = byId.get(id)!.callFrame
      for (const w of wanted) {
        if (frame.functionName !== w.name || (w.file && !frame.url.includes(w.file)) || seen.has(w.key)) continue
        seen.add(w.key)
        inclusive.set(w.key, inclusive.get(w.key)! + dt)
      }
    }
  }
  const share = (us: number) => (busyUs > 0 ? us / busyUs : 0)
  return {
    busyMs: busyUs / 1000,
    idleMs: idleUs / 1000,
    windowMs: windowUs / 1000,
    areas: [...areas].map(([area, us]) => ({ area, ms: us / 1000, share: share(us) })).sort((a, b) => b.ms - a.ms),
    functions: [...self.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, 25)
      .map((e) => ({ name: e.name, where: e.where, area: e.area, ms: e.us / 1000, share: share(e.us) })),
    inclusive: [...inclusive].map(([name, us]) => ({ name, ms: us / 1000, share: share(us) })),
  }
}

/** Bun's markdown profile without its long per-function section, and at most 80 rows per table. */
export function trimProfile(md: string): string {
  const out: string[] = []
  let skipping = false
  let rows = 0
  for (const line of md.split('\n')) {
    if (line.startsWith('## ')) {
      skipping = line.startsWith('## Function Details')
      rows = 0
      if (skipping) out.push(line, '', '_Left out of the committed copy (see the .cpuprofile of the run)._', '')
    }
    if (skipping) continue
    if (line.startsWith('| ') && ++rows > 82) continue
    out.push(line)
  }
  return out.join('\n')
}
