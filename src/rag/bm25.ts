/**
 * @module rag/bm25
 * In-memory BM25F over three fields (body, symbol, path), each saturated on its own and weighted
 * (rag.md §3.2: the symbol field is the big lever). A term's best field counts in full and its
 * other fields at TIE (Lucene's "dismax" with a tie-breaker): a word found in a name, a body and a
 * path is one piece of evidence, not three, and long descriptive queries stop favouring whatever
 * mentions their common words everywhere. Postings live in one growable
 * Int32Array arena as chains of blocks, so a million indexed lines cost tens of megabytes rather
 * than an object per term. Documents are appended with increasing ids and removed by tombstone;
 * document frequencies keep counting removed documents until the owner rebuilds (as Lucene does
 * until a merge), which moves scores by little and keeps removal O(1).
 */

export interface FieldCounts {
  body: Map<string, number>
  symbol: Map<string, number>
  path: Map<string, number>
  /** The words of the document's name (see `nameCoverage`); none for a chunk without a name. */
  name?: string[]
}

export interface Weights {
  body: number
  symbol: number
  path: number
}

export interface SizeHint {
  /** Arena entries used. */
  ints: number
  terms: number
  docs: number
}

export interface Scored {
  doc: number
  score: number
}

// Tuned on the tuning half of bench/rag's docstring queries, with the tokenizer of rag/tokenize.
const K1 = 1.6
// Length normalisation per field (body, symbol, path). On names and paths a little above the textbook
// 0.75: long declarations matched too easily; on bodies the textbook value did better.
const B = [0.75, 0.9, 0.9] as const
/** The weight of a term's other fields, its best one counting in full. */
const TIE = 0.3
const FIRST_BLOCK = 2
const MAX_BLOCK = 1024
// Block header: next block, capacity, used; then `capacity` pairs of (doc, packed term frequencies).
const HEADER = 3

export class Bm25Index {
  readonly weights: Weights
  readonly #terms = new Map<string, number>()
  #head = new Int32Array(1024)
  #tail = new Int32Array(1024)
  // Documents containing the term, per field (removed ones included until a rebuild).
  #df = new Int32Array(1024 * 3)
  #arena = new Int32Array(1 << 16)
  #top = 0
  #lengths = new Uint32Array(1024 * 3)
  #alive = new Uint8Array(1024)
  // Each document's name words as term ids: `#nameIds[#nameStart[doc] ...]`, `#nameCount[doc]` of them.
  #nameIds = new Int32Array(4096)
  #nameTop = 0
  #nameStart = new Uint32Array(1024)
  #nameCount = new Uint8Array(1024)
  #docs = 0
  #live = 0
  readonly #totalLength = [0, 0, 0]
  // Scratch for queries, reused: no allocation proportional to the corpus per query.
  #scores = new Float64Array(1024)
  #touched = new Int32Array(1024)

  /**
   * `expected` sizes the arrays up front (what the last build of the same corpus used): growing
   * by copying leaves each old array behind as garbage, and the process's RSS never shrinks back.
   */
  constructor(weights: Weights, expected?: SizeHint) {
    this.weights = weights
    if (!expected) return
    const terms = Math.max(1024, Math.ceil(expected.terms * 1.05))
    this.#head = new Int32Array(terms)
    this.#tail = new Int32Array(terms)
    this.#df = new Int32Array(terms * 3)
    this.#arena = new Int32Array(Math.max(1 << 16, Math.ceil(expected.ints * 1.05)))
    this.#ensureDocs(Math.ceil(expected.docs * 1.05))
  }

  /** What this index holds, as a size hint for the next one built from the same corpus. */
  get sizeHint(): SizeHint {
    return { ints: this.#top, terms: this.#terms.size, docs: this.#docs }
  }

  /** Number of documents ever added (the next id). */
  get size(): number {
    return this.#docs
  }
  get live(): number {
    return this.#live
  }
  get terms(): number {
    return this.#terms.size
  }
  /** Bytes held in typed arrays (postings, statistics, scratch). */
  get bytes(): number {
    const names = this.#nameIds.byteLength + this.#nameStart.byteLength + this.#nameCount.byteLength
    return this.#arena.byteLength + this.#head.byteLength * 2 + this.#df.byteLength + this.#lengths.byteLength + this.#alive.byteLength + this.#scores.byteLength + this.#touched.byteLength + names
  }

  /** The ids of those of `terms` that the index has, for `nameCoverage`. */
  idsOf(terms: Iterable<string>): Set<number> {
    const ids = new Set<number>()
    for (const t of terms) {
      const id = this.#terms.get(t)
      if (id !== undefined) ids.add(id)
    }
    return ids
  }

  /** The share of `doc`'s name words whose term ids are in `ids` (0 for a document without a name). */
  nameCoverage(doc: number, ids: Set<number>): number {
    const count = this.#nameCount[doc]!
    if (count === 0) return 0
    let used = 0
    for (let i = this.#nameStart[doc]!, end = i + count; i < end; i++) if (ids.has(this.#nameIds[i]!)) used++
    return used / count
  }

  /** Whether `term` was ever indexed (a query may try variants of a word that the index lacks). */
  has(term: string): boolean {
    return this.#terms.has(term)
  }

  isAlive(doc: number): boolean {
    return this.#alive[doc] === 1
  }

  /** Appends a document; returns its id. */
  add(fields: FieldCounts): number {
    const doc = this.#docs++
    this.#ensureDocs(doc + 1)
    this.#alive[doc] = 1
    this.#live++
    const packed = new Map<number, number>()
    const lens = [0, 0, 0]
    const put = (counts: Map<string, number>, field: 0 | 1 | 2) => {
      for (const [term, tf] of counts) {
        lens[field]! += tf
        const id = this.#termId(term)
        const shift = field === 0 ? 0 : field === 1 ? 16 : 24
        const max = field === 0 ? 0xffff : 0xff
        packed.set(id, (packed.get(id) ?? 0) | (Math.min(tf, max) << shift))
        this.#df[id * 3 + field]!++
      }
    }
    put(fields.body, 0)
    put(fields.symbol, 1)
    put(fields.path, 2)
    for (const [id, tfs] of packed) this.#append(id, doc, tfs)
    const name = fields.name ?? []
    const count = Math.min(name.length, 0xff)
    if (this.#nameTop + count > this.#nameIds.length) {
      const next = new Int32Array(Math.max(this.#nameTop + count, Math.ceil(this.#nameIds.length * 1.5)))
      next.set(this.#nameIds.subarray(0, this.#nameTop))
      this.#nameIds = next
    }
    this.#nameStart[doc] = this.#nameTop
    this.#nameCount[doc] = count
    for (let i = 0; i < count; i++) this.#nameIds[this.#nameTop++] = this.#termId(name[i]!)
    for (let f = 0; f < 3; f++) {
      this.#lengths[doc * 3 + f] = lens[f]!
      this.#totalLength[f]! += lens[f]!
    }
    return doc
  }

  remove(doc: number): void {
    if (this.#alive[doc] !== 1) return
    this.#alive[doc] = 0
    this.#live--
    for (let f = 0; f < 3; f++) this.#totalLength[f]! -= this.#lengths[doc * 3 + f]!
  }

  /**
   * The best `k` live documents for `terms` (each with a query weight), best first, keeping only
   * those `accept` allows. A term of the query absent from the index just scores nothing.
   */
  search(terms: Map<string, number>, k: number, accept?: (doc: number) => boolean): { hits: Scored[]; matched: number } {
    const n = Math.max(1, this.#live)
    const avg = this.#totalLength.map((t) => Math.max(1, t / n))
    const w = [this.weights.body, this.weights.symbol, this.weights.path]
    const scores = this.#scores
    const touched = this.#touched
    let touchedCount = 0
    const arena = this.#arena
    const lengths = this.#lengths
    const alive = this.#alive
    const [n0, n1, n2] = B.map((b) => K1 * (1 - b)) as [number, number, number]
    const [l0, l1, l2] = B.map((b, f) => (K1 * b) / avg[f]!) as [number, number, number]
    for (const [term, qWeight] of terms) {
      const id = this.#terms.get(term)
      if (id === undefined) continue
      const idf = [0, 1, 2].map((f) => {
        const df = this.#df[id * 3 + f]!
        return df === 0 ? 0 : w[f]! * qWeight * Math.log(1 + (n - df + 0.5) / (df + 0.5))
      })
      const [i0, i1, i2] = idf as [number, number, number]
      for (let block = this.#head[id]!; block >= 0; block = arena[block]!) {
        const used = arena[block + 2]!
        for (let i = 0, at = block + HEADER; i < used; i++, at += 2) {
          const doc = arena[at]!
          if (alive[doc] !== 1) continue
          const tfs = arena[at + 1]!
          const tb = tfs & 0xffff
          const s0 = tb ? (i0 * tb * (K1 + 1)) / (tb + n0 + l0 * lengths[doc * 3]!) : 0
          const ts = (tfs >>> 16) & 0xff
          const s1 = ts ? (i1 * ts * (K1 + 1)) / (ts + n1 + l1 * lengths[doc * 3 + 1]!) : 0
          const tp = tfs >>> 24
          const s2 = tp ? (i2 * tp * (K1 + 1)) / (tp + n2 + l2 * lengths[doc * 3 + 2]!) : 0
          const best = s0 > s1 ? (s0 > s2 ? s0 : s2) : s1 > s2 ? s1 : s2
          if (best === 0) continue
          const s = best + TIE * (s0 + s1 + s2 - best)
          if (scores[doc] === 0) touched[touchedCount++] = doc
          scores[doc]! += s
        }
      }
    }
    // Partial selection: a min-heap of the k best accepted documents.
    const heap: Scored[] = []
    let matched = 0
    for (let i = 0; i < touchedCount; i++) {
      const doc = touched[i]!
      const score = scores[doc]!
      scores[doc] = 0
      if (score <= 0 || (accept && !accept(doc))) continue
      matched++
      if (heap.length >= k && score <= heap[0]!.score) continue
      if (heap.length < k) heapPush(heap, { doc, score })
      else heapReplaceTop(heap, { doc, score })
    }
    return { hits: heap.sort((a, b) => b.score - a.score || a.doc - b.doc), matched }
  }

  #termId(term: string): number {
    let id = this.#terms.get(term)
    if (id !== undefined) return id
    id = this.#terms.size
    // A token is a slice of the chunk text it came from, and JavaScriptCore keeps a slice's whole
    // source alive: kept as is, the dictionary held most of the corpus (measured: +20 MB heap and
    // +20 MB external per million lines). Tokens are ASCII, so a latin1 round trip is a true copy.
    this.#terms.set(Buffer.from(term, 'latin1').toString('latin1'), id)
    if (id >= this.#head.length) {
      const grow = (a: Int32Array) => {
        const next = new Int32Array(a.length * 2)
        next.set(a)
        return next
      }
      this.#head = grow(this.#head)
      this.#tail = grow(this.#tail)
      this.#df = grow(this.#df)
    }
    this.#head[id] = -1
    this.#tail[id] = -1
    return id
  }

  #append(term: number, doc: number, tfs: number): void {
    let block = this.#tail[term]!
    if (block < 0 || this.#arena[block + 2] === this.#arena[block + 1]) {
      const capacity = block < 0 ? FIRST_BLOCK : Math.min(MAX_BLOCK, this.#arena[block + 1]! * 2)
      const next = this.#alloc(capacity)
      if (block < 0) this.#head[term] = next
      else this.#arena[block] = next
      this.#tail[term] = next
      block = next
    }
    const used = this.#arena[block + 2]!
    const at = block + HEADER + used * 2
    this.#arena[at] = doc
    this.#arena[at + 1] = tfs
    this.#arena[block + 2] = used + 1
  }

  #alloc(capacity: number): number {
    const need = this.#top + HEADER + capacity * 2
    if (need > this.#arena.length) {
      // Grow by half: the arena is the index's largest allocation, and a doubling would overshoot.
      const next = new Int32Array(Math.max(need, Math.ceil(this.#arena.length * 1.5)))
      next.set(this.#arena.subarray(0, this.#top))
      this.#arena = next
    }
    const block = this.#top
    this.#arena[block] = -1
    this.#arena[block + 1] = capacity
    this.#arena[block + 2] = 0
    this.#top = need
    return block
  }

  #ensureDocs(count: number): void {
    if (count <= this.#alive.length) return
    const size = Math.max(count, this.#alive.length * 2)
    const alive = new Uint8Array(size)
    alive.set(this.#alive)
    this.#alive = alive
    const lengths = new Uint32Array(size * 3)
    lengths.set(this.#lengths)
    this.#lengths = lengths
    this.#scores = new Float64Array(size)
    this.#touched = new Int32Array(size)
    const nameStart = new Uint32Array(size)
    nameStart.set(this.#nameStart)
    this.#nameStart = nameStart
    const nameCount = new Uint8Array(size)
    nameCount.set(this.#nameCount)
    this.#nameCount = nameCount
  }
}

function heapPush(heap: Scored[], item: Scored): void {
  heap.push(item)
  let i = heap.length - 1
  while (i > 0) {
    const parent = (i - 1) >> 1
    if (heap[parent]!.score <= item.score) break
    heap[i] = heap[parent]!
    i = parent
  }
  heap[i] = item
}

function heapReplaceTop(heap: Scored[], item: Scored): void {
  let i = 0
  const n = heap.length
  for (;;) {
    const l = 2 * i + 1
    if (l >= n) break
    const r = l + 1
    const c = r < n && heap[r]!.score < heap[l]!.score ? r : l
    if (heap[c]!.score >= item.score) break
    heap[i] = heap[c]!
    i = c
  }
  heap[i] = item
}
