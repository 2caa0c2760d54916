/**
 * @module rag/slot-table
 * What the ranker needs to know about each of its documents (a chunk) without a database round
 * trip: where it is and what it defines. Columns in typed arrays; names in plain arrays.
 */
import type { ChunkKind } from './parsed-file.ts'

export interface Slot {
  chunkId: number
  /** The owning file's key (see `CodeIndex.fileByKey`). */
  file: number
  start: number
  end: number
  kind: ChunkKind
  symbol: string
  parent?: string
}

const KINDS: ChunkKind[] = ['function', 'method', 'class', 'interface', 'type', 'enum', 'variable', 'module', 'window']
const KIND_CODE = new Map(KINDS.map((k, i) => [k, i]))

export class SlotTable {
  #chunkId = new Int32Array(1024)
  #file = new Int32Array(1024)
  #start = new Int32Array(1024)
  #end = new Int32Array(1024)
  #kind = new Uint8Array(1024)
  readonly #symbol: string[] = []
  readonly #parent: (string | undefined)[] = []

  set(doc: number, s: Slot): void {
    if (doc >= this.#file.length) this.#grow(doc + 1)
    this.#chunkId[doc] = s.chunkId
    this.#file[doc] = s.file
    this.#start[doc] = s.start
    this.#end[doc] = s.end
    this.#kind[doc] = KIND_CODE.get(s.kind) ?? 0
    this.#symbol[doc] = s.symbol
    this.#parent[doc] = s.parent
  }

  get(doc: number): Slot {
    const s: Slot = { chunkId: this.#chunkId[doc]!, file: this.#file[doc]!, start: this.#start[doc]!, end: this.#end[doc]!, kind: KINDS[this.#kind[doc]!]!, symbol: this.#symbol[doc] ?? '' }
    const parent = this.#parent[doc]
    if (parent !== undefined) s.parent = parent
    return s
  }

  file(doc: number): number {
    return this.#file[doc]!
  }
  symbol(doc: number): string {
    return this.#symbol[doc] ?? ''
  }
  isDefinition(doc: number): boolean {
    return this.#kind[doc]! < KIND_CODE.get('module')!
  }

  #grow(min: number): void {
    const size = Math.max(min, this.#file.length * 2)
    const g = <T extends Int32Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const next = make(size)
      next.set(a)
      return next
    }
    this.#chunkId = g(this.#chunkId, (n) => new Int32Array(n))
    this.#file = g(this.#file, (n) => new Int32Array(n))
    this.#start = g(this.#start, (n) => new Int32Array(n))
    this.#end = g(this.#end, (n) => new Int32Array(n))
    this.#kind = g(this.#kind, (n) => new Uint8Array(n))
  }
}
