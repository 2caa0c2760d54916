/**
 * @module rag/parse-worker
 * The parser thread: walks repositories, and reads, hashes and parses files, so that the request
 * thread only ranks. Each message is a batch; the answer carries the same `id`.
 */
import type { ParsedFile } from './parsed-file.ts'
import { parseSource } from './parse-source.ts'
import { readSource } from './read-source.ts'
import { walkRepository, type WalkOptions, type WalkResult } from './walker.ts'

export interface FileJob {
  abs: string
  rel: string
  lang: string
  /** The hash already indexed: an unchanged file is answered without parsing. */
  sha256?: string
}

export type FileResult =
  | { rel: string; status: 'parsed'; sha256: string; size: number; mtimeMs: number; content: string; parsed: ParsedFile }
  | { rel: string; status: 'unchanged'; sha256: string; size: number; mtimeMs: number }
  | { rel: string; status: 'skipped'; reason: string }

export type WorkerRequest =
  | { id: number; kind: 'files'; rootReal: string; maxBytes: number; stripDocs: boolean; jobs: FileJob[] }
  | { id: number; kind: 'source'; content: string; lang: string }
  | { id: number; kind: 'walk'; root: string; options: WalkOptions }

export type WorkerResponse = { id: number; files?: FileResult[]; parsed?: ParsedFile; walked?: WalkResult; error?: string }

declare const self: Worker

async function handle(req: WorkerRequest): Promise<WorkerResponse> {
  if (req.kind === 'source') return { id: req.id, parsed: await parseSource(req.content, req.lang) }
  if (req.kind === 'walk') return { id: req.id, walked: walkRepository(req.root, req.options) }
  const files: FileResult[] = []
  for (const job of req.jobs) {
    const read = readSource(job.abs, req.rootReal, req.maxBytes)
    if (!read.ok) {
      files.push({ rel: job.rel, status: 'skipped', reason: read.reason })
      continue
    }
    const { sha256, size, mtimeMs, content } = read
    if (sha256 === job.sha256) files.push({ rel: job.rel, status: 'unchanged', sha256, size, mtimeMs })
    else files.push({ rel: job.rel, status: 'parsed', sha256, size, mtimeMs, content, parsed: await parseSource(content, job.lang, { stripDocs: req.stripDocs }) })
  }
  return { id: req.id, files }
}

// One batch at a time, in the order sent. Handled concurrently, batches queued behind the first
// file's grammar load would all resume together and advance a file each in turn, so the first
// answer would come back only when nearly every batch was done (the indexer applies them in order).
let queue: Promise<void> = Promise.resolve()
self.onmessage = (event: MessageEvent<WorkerRequest>) => {
  queue = queue.then(() => answer(event.data))
}

/** Every request gets one answer, even when handling it or sending its answer fails: the queue never stops. */
async function answer(req: WorkerRequest): Promise<void> {
  let res: WorkerResponse
  try {
    res = await handle(req)
  } catch (err) {
    res = { id: req.id, error: messageOf(err) }
  }
  try {
    self.postMessage(res)
  } catch (err) {
    self.postMessage({ id: req.id, error: `the parser's answer could not be sent: ${messageOf(err)}` })
  }
}

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err))
