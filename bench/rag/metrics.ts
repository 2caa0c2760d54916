/**
 * Retrieval metrics over ranked lists: MRR@10 and Recall@k, for all queries and for the queries
 * that do not contain their target's name (a symbol-name boost must not hide a paraphrase miss).
 */

export interface Judged {
  /** Ranks (1-based) at which relevant items were found in the top 10, best first. */
  ranks: number[]
  relevant: number
  /** The query contains the target's name verbatim. */
  leak: boolean
}

export interface Scores {
  queries: number
  mrr10: number
  r1: number
  r5: number
  r10: number
}

export function score(judged: Judged[]): Scores {
  const n = judged.length || 1
  const recall = (k: number) => judged.reduce((s, j) => s + j.ranks.filter((r) => r <= k).length / j.relevant, 0) / n
  return {
    queries: judged.length,
    mrr10: judged.reduce((s, j) => s + (j.ranks.length && j.ranks[0]! <= 10 ? 1 / j.ranks[0]! : 0), 0) / n,
    r1: recall(1),
    r5: recall(5),
    r10: recall(10),
  }
}

/** A stable pseudo-random order and split from a string (FNV-1a). */
export function hash(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h
}
