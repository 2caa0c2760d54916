/**
 * Liveness while an attack runs: GET /health every 20 ms (one at a time), until `stop` arrives on
 * stdin; then prints `HEALTH <json>` with every latency's p50, p99 and max (ms) and how many were
 * answered. Usage: bun health-probe.ts <base-url>.
 */
const base = process.argv[2]
if (!base) throw new Error('usage: health-probe.ts <base-url>')

const latencies: number[] = []
let failures = 0
let stopping = false

const loop = (async () => {
  while (!stopping) {
    const t0 = performance.now()
    try {
      const res = await fetch(`${base}/health`)
      await res.arrayBuffer()
      if (res.status === 200) latencies.push(performance.now() - t0)
      else failures++
    } catch {
      failures++
    }
    const wait = 20 - (performance.now() - t0)
    if (wait > 0) await Bun.sleep(wait)
  }
})()

console.log('PROBING')
for await (const line of console) if (line.trim() === 'stop') break
stopping = true
await loop
const sorted = [...latencies].sort((a, b) => a - b)
const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
console.log(`HEALTH ${JSON.stringify({ count: sorted.length, failures, p50: at(0.5), p99: at(0.99), max: sorted.at(-1) ?? NaN })}`)
process.exit(0)
export {}
