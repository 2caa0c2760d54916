/**
 * @module lib/prometheus
 * Counters, gauges and histograms in memory, rendered in the Prometheus text format (0.0.4).
 * Small on purpose: a series is looked up once (`with(...)`) and kept by its caller, so recording
 * on a hot path is an addition on a plain object, with no allocation and no label hashing.
 */

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return '+Inf'
  if (n === -Infinity) return '-Inf'
  return String(n)
}

/** What every metric family shares: a checked name, help text and label names. */
abstract class Family<S extends { labels: string }> {
  readonly #series = new Map<string, S>()

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {
    if (!METRIC_NAME.test(name)) throw new Error(`Metric name "${name}" is invalid: use [a-zA-Z_:][a-zA-Z0-9_:]*`)
    for (const l of labelNames)
      if (!LABEL_NAME.test(l) || l.startsWith('__')) throw new Error(`Label name "${l}" of ${name} is invalid: use [a-zA-Z_][a-zA-Z0-9_]* not starting with __`)
  }

  abstract readonly type: 'counter' | 'gauge' | 'histogram'
  protected abstract create(labels: string): S
  protected abstract lines(s: S, out: string[]): void

  /** The series for these label values, created on first use. Keep it: recording on it is free. */
  with(...values: string[]): S {
    if (values.length !== this.labelNames.length)
      throw new Error(`${this.name} takes ${this.labelNames.length} label value(s) (${this.labelNames.join(', ')}), got ${values.length}`)
    const key = values.join('\u0000')
    let s = this.#series.get(key)
    if (!s) {
      const labels = values.length === 0 ? '' : this.labelNames.map((l, i) => `${l}="${escapeLabel(values[i]!)}"`).join(',')
      s = this.create(labels)
      this.#series.set(key, s)
    }
    return s
  }

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`)
    for (const s of this.#series.values()) this.lines(s, out)
  }

  protected sample(suffix: string, labels: string, value: number): string {
    return `${this.name}${suffix}${labels === '' ? '' : `{${labels}}`} ${formatValue(value)}`
  }
}

export interface CounterSeries {
  readonly labels: string
  value: number
}

export class Counter extends Family<CounterSeries> {
  readonly type = 'counter'
  protected create(labels: string): CounterSeries {
    return { labels, value: 0 }
  }
  protected lines(s: CounterSeries, out: string[]): void {
    out.push(this.sample('_total', s.labels, s.value))
  }
  constructor(name: string, help: string, labelNames: readonly string[] = []) {
    // The text format appends `_total`; the family is named without it.
    if (name.endsWith('_total')) throw new Error(`Counter "${name}": name it without the _total suffix`)
    super(name, help, labelNames)
  }
}

export interface GaugeSeries {
  readonly labels: string
  value: number
}

export class Gauge extends Family<GaugeSeries> {
  readonly type = 'gauge'
  protected create(labels: string): GaugeSeries {
    return { labels, value: 0 }
  }
  protected lines(s: GaugeSeries, out: string[]): void {
    out.push(this.sample('', s.labels, s.value))
  }
}

export interface HistogramSeries {
  readonly labels: string
  /** Observations per bucket (not cumulative; the last slot is +Inf). */
  readonly counts: number[]
  sum: number
  count: number
  readonly bounds: readonly number[]
}

/** Record one observation. A function, not a method, so series stay plain data. */
export function observe(s: HistogramSeries, value: number): void {
  const { bounds, counts } = s
  let i = 0
  while (i < bounds.length && value > bounds[i]!) i++
  counts[i]!++
  s.sum += value
  s.count++
}

export class Histogram extends Family<HistogramSeries> {
  readonly type = 'histogram'
  readonly #bounds: readonly number[]

  constructor(name: string, help: string, labelNames: readonly string[], bounds: readonly number[]) {
    super(name, help, labelNames)
    if (labelNames.includes('le')) throw new Error(`Histogram ${name}: "le" is reserved for buckets`)
    if (bounds.length === 0 || bounds.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= bounds[i - 1]!)))
      throw new Error(`Histogram ${name}: buckets must be finite and strictly increasing`)
    this.#bounds = bounds
  }

  protected create(labels: string): HistogramSeries {
    return { labels, counts: new Array<number>(this.#bounds.length + 1).fill(0), sum: 0, count: 0, bounds: this.#bounds }
  }

  protected lines(s: HistogramSeries, out: string[]): void {
    const prefix = s.labels === '' ? '' : `${s.labels},`
    let cumulative = 0
    for (let i = 0; i < s.bounds.length; i++) {
      cumulative += s.counts[i]!
      out.push(this.sample('_bucket', `${prefix}le="${s.bounds[i]}"`, cumulative))
    }
    out.push(this.sample('_bucket', `${prefix}le="+Inf"`, s.count))
    out.push(this.sample('_sum', s.labels, s.sum), this.sample('_count', s.labels, s.count))
  }
}

type AnyFamily = Counter | Gauge | Histogram

/** The metrics one endpoint exposes, with callbacks that refresh gauges just before rendering. */
export class MetricRegistry {
  readonly #families: AnyFamily[] = []
  readonly #collectors: (() => void)[] = []

  register<F extends AnyFamily>(family: F): F {
    if (this.#families.some((f) => f.name === family.name)) throw new Error(`Metric ${family.name} is already registered`)
    this.#families.push(family)
    return family
  }

  /** Run before each render: fill gauges whose value is read rather than tracked. */
  onCollect(collect: () => void): void {
    this.#collectors.push(collect)
  }

  render(): string {
    for (const c of this.#collectors) c()
    const out: string[] = []
    for (const f of this.#families) f.render(out)
    return `${out.join('\n')}\n`
  }
}

/** The content type of the text format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
