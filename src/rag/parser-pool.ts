/**
 * @module rag/parser-pool
 * Parsing off the request thread: a few Bun Workers, each holding its own tree-sitter parsers.
 * Batches go to the least-busy worker; a worker that dies fails its pending batches and is replaced.
 */
import type { ParsedFile } from './parsed-file.ts'
import type { FileJob, FileResult, WorkerRequest, WorkerResponse } from './parse-worker.ts'

/** The seam the indexer parses through (a pool of workers in the server). */
export interface FileParser {
  parseFiles(rootReal: string, jobs: FileJob[], options: { maxBytes: number; stripDocs?: boolean }): Promise<FileResult[]>
  parseSource(content: string, lang: string): Promise<ParsedFile>
  close(): void
}

interface Slot {
  worker: Worker
  pending: Map<number, { resolve(r: WorkerResponse): void; reject(e: Error): void }>
}

type Distribute<T> = T extends unknown ? Omit<T, 'id'> : never

export class ParserPool implements FileParser {
  readonly #slots: Slot[] = []
  #next = 1
  #closed = false

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.#slots.push(this.#spawn())
  }

  #spawn(): Slot {
    const worker = new Worker(new URL('./parse-worker.ts', import.meta.url).href)
    const slot: Slot = { worker, pending: new Map() }
    worker.onmessage = (event: MessageEvent<WorkerResponse>) => {
      const p = slot.pending.get(event.data.id)
      slot.pending.delete(event.data.id)
      p?.resolve(event.data)
    }
    worker.onerror = (event) => {
      for (const p of slot.pending.values()) p.reject(new Error(`parser worker failed: ${event.message}`))
      slot.pending.clear()
      if (this.#closed) return
      worker.terminate()
      const i = this.#slots.indexOf(slot)
      if (i >= 0) this.#slots[i] = this.#spawn()
    }
    // Idle workers must not keep the process alive.
    worker.unref()
    return slot
  }

  #send(req: Distribute<WorkerRequest>): Promise<WorkerResponse> {
    if (this.#closed) return Promise.reject(new Error('the parser pool is closed'))
    const slot = this.#slots.reduce((a, b) => (b.pending.size < a.pending.size ? b : a))
    const id = this.#next++
    return new Promise((resolve, reject) => {
      slot.pending.set(id, { resolve, reject })
      slot.worker.postMessage({ ...req, id })
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

  close(): void {
    this.#closed = true
    for (const s of this.#slots) {
      for (const p of s.pending.values()) p.reject(new Error('the parser pool is closed'))
      s.worker.terminate()
    }
  }
}
