/**
 * @module rag/page-rank
 * Personalized PageRank over a small weighted graph (aider ranks its repo map this way): the
 * walk restarts at the seed, so the scores say how related each node is to it.
 */

export function personalizedPageRank(edges: Map<string, Map<string, number>>, seed: string, iterations = 30, restart = 0.15): Map<string, number> {
  const nodes = new Set<string>([seed])
  for (const [from, tos] of edges) {
    nodes.add(from)
    for (const to of tos.keys()) nodes.add(to)
  }
  let rank = new Map<string, number>([...nodes].map((n) => [n, n === seed ? 1 : 0]))
  const outWeight = new Map<string, number>()
  for (const [from, tos] of edges) outWeight.set(from, [...tos.values()].reduce((a, b) => a + b, 0))
  for (let i = 0; i < iterations; i++) {
    const next = new Map<string, number>([...nodes].map((n) => [n, n === seed ? restart : 0]))
    for (const [node, r] of rank) {
      const tos = edges.get(node)
      const total = outWeight.get(node) ?? 0
      // A node without edges gives its rank back to the seed.
      if (!tos || total === 0) {
        next.set(seed, next.get(seed)! + (1 - restart) * r)
        continue
      }
      for (const [to, w] of tos) next.set(to, next.get(to)! + ((1 - restart) * r * w) / total)
    }
    rank = next
  }
  return rank
}

/** Adds an undirected weighted edge. */
export function link(edges: Map<string, Map<string, number>>, a: string, b: string, weight: number): void {
  if (a === b) return
  for (const [x, y] of [[a, b], [b, a]] as const) {
    let m = edges.get(x)
    if (!m) edges.set(x, (m = new Map()))
    m.set(y, (m.get(y) ?? 0) + weight)
  }
}
