/**
 * @module rag/parser-pool
 * Parsing off the request thread: a few Bun Workers, each holding its own tree-sitter parsers.
 * Batches go to the least-busy worker; a worker that dies fails its pending batches and is replaced.
 * A worker idle for `idleMs` is ended: a parser's WebAssembly memory grows to fit the largest file
 * it has parsed and never shrinks, so idle workers would hold far more memory than the index
 * itself. The next change starts one again (tens of milliseconds).
 */
import { availableParallelism } from 'node:os'
import type { ParsedFile } from './parsed-file.ts'
import type { FileJob, FileResult, WorkerRequest, WorkerResponse } from './parse-worker.ts'
import type { WalkOptions, WalkResult } from './walker.ts'

/** The seam the indexer parses through (a pool of workers in the server). */
export interface FileParser {
  parseFiles(rootReal: string, jobs: FileJob[], options: { maxBytes: number; stripDocs?: boolean }): Promise<FileResult[]>
  parseSource(content: string, lang: string): Promise<ParsedFile>
  /** A repository's indexable files (a walk of a large tree takes a while: not on the request thread). */
  walk(root: string, options: WalkOptions): Promise<WalkResult>
  close(): void
}

interface Slot {
  worker?: Worker
  pending: Map<number, { resolve(r: WorkerResponse): void; reject(e: Error): void }>
  idle?: ReturnType<typeof setTimeout>
}

/**
 * Parser threads by default: one core fewer than the machine has (at least one). The request
 * thread applies what they parse (SQLite writes, the ranker) and is what a cold build waits on;
 * a worker per core starves it (measured at 1M lines on 2 cores: 11.1–11.7 s with two workers,
 * 9.7–10.1 s with one), and requests keep a core while a repository is indexed.
 */
export const DEFAULT_PARSER_WORKERS = Math.max(1, availableParallelism() - 1)

/** How long a worker with nothing to do is kept. */
export const WORKER_IDLE_MS = 2000

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never

export class ParserPool implements FileParser {
  readonly #slots: Slot[] = []
  #next = 1
  #closed = false

  readonly #idleMs: number

  constructor(size: number, idleMs = WORKER_IDLE_MS) {
    this.#idleMs = idleMs
    for (let i = 0; i < size; i++) this.#slots.push({ pending: new Map() })
  }

  /** Workers running now (idle ones end after `idleMs`). */
  get running(): number {
    return this.#slots.filter((s) => s.worker).length
  }

  #start(slot: Slot): Worker {
    const worker = new Worker(new URL('./parse-worker.ts', import.meta.url).href)
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const p = slot.pending.get(event.data.id)
      slot.pending.delete(event.data.id)
      if (slot.pending.size === 0) this.#idle(slot)
      p?.resolve(event.data)
    }
    worker.onerror = (event) => {
      for (const p of slot.pending.values()) p.reject(new Error(`parser worker failed: ${event.message}`))
      slot.pending.clear()
      this.#end(slot)
    }
    // Workers must not keep the process alive.
    worker.unref()
    slot.worker = worker
    return worker
  }

  #idle(slot: Slot): void {
    clearTimeout(slot.idle)
    slot.idle = setTimeout(() => slot.pending.size === 0 && this.#end(slot), this.#idleMs)
    slot.idle.unref?.()
  }

  #end(slot: Slot): void {
    clearTimeout(slot.idle)
    slot.worker?.terminate()
    slot.worker = undefined
  }

  #send(req: Distribute<WorkerRequest>): Promise<WorkerResponse> {
    if (this.#closed) return Promise.reject(new Error('the parser pool is closed'))
    const slot = this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
    clearTimeout(slot.idle)
    const worker = slot.worker ?? this.#start(slot)
    const id = this.#next++
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject })
      worker.postMessage({ ...req, id })
    })
  }

  async parseFiles(rootReal: string, jobs: FileJob[], options: { maxBytes: number; stripDocs?: boolean }): Promise<FileResult[]> {
    const res = await this.#send({ kind: 'files', rootReal, jobs, maxBytes: options.maxBytes, stripDocs: options.stripDocs ?? false })
    if (res.error !== undefined || !res.files) throw new Error(res.error ?? 'parser worker returned nothing')
    return res.files
  }

  async parseSource(content: string, lang: string): Promise<ParsedFile> {
    const res = await this.#send({ kind: 'source', content, lang })
    if (res.error !== undefined || !res.parsed) throw new Error(res.error ?? 'parser worker returned nothing')
    return res.parsed
  }

  async walk(root: string, options: WalkOptions): Promise<WalkResult> {
    const res = await this.#send({ kind: 'walk', root, options })
    if (res.error !== undefined || !res.walked) throw new Error(res.error ?? 'parser worker returned nothing')
    return res.walked
  }

  close(): void {
    this.#closed = true
    for (const s of this.#slots) {
      for (const p of s.pending.values()) p.reject(new Error('the parser pool is closed'))
      s.pending.clear()
      this.#end(s)
    }
  }
}
