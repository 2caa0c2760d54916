/**
 * The metrics primitives: the exact text format, label escaping, cumulative histogram buckets,
 * collectors run at render time, and clear refusals of names Prometheus would reject.
 */
import { expect, test } from 'bun:test'
import { Counter, Gauge, Histogram, MetricRegistry, observe } from '../../src/lib/prometheus.ts'

test('counters, gauges and histograms render in the text format', () => {
  const r = new MetricRegistry()
  const calls = r.register(new Counter('app_calls', 'Calls by tool', ['tool']))
  const up = r.register(new Gauge('app_up', 'Up'))
  const latency = r.register(new Histogram('app_latency_seconds', 'Latency', ['route'], [0.1, 1]))
  const echo = calls.with('echo')
  echo.value++
  echo.value++
  up.with().value = 1
  const h = latency.with('/a')
  for (const v of [0.05, 0.1, 0.5, 3]) observe(h, v)
  expect(r.render()).toBe(
    [
      '# HELP app_calls Calls by tool',
      '# TYPE app_calls counter',
      'app_calls_total{tool="echo"} 2',
      '# HELP app_up Up',
      '# TYPE app_up gauge',
      'app_up 1',
      '# HELP app_latency_seconds Latency',
      '# TYPE app_latency_seconds histogram',
      'app_latency_seconds_bucket{route="/a",le="0.1"} 2',
      'app_latency_seconds_bucket{route="/a",le="1"} 3',
      'app_latency_seconds_bucket{route="/a",le="+Inf"} 4',
      'app_latency_seconds_sum{route="/a"} 3.65',
      'app_latency_seconds_count{route="/a"} 4',
      '',
    ].join('\n'),
  )
})

test('a series is created once: the handle a caller keeps is the one rendered', () => {
  const c = new Counter('x', 'x', ['a', 'b'])
  expect(c.with('1', '2')).toBe(c.with('1', '2'))
  expect(c.with('1', '2')).not.toBe(c.with('12', ''))
})

test('label values are escaped; help text keeps to one line', () => {
  const r = new MetricRegistry()
  r.register(new Counter('x', 'line one\nline two \\ end', ['v'])).with('a"b\\c\nd').value = 1
  expect(r.render()).toBe('# HELP x line one\\nline two \\\\ end\n# TYPE x counter\nx_total{v="a\\"b\\\\c\\nd"} 1\n')
})

test('collectors fill gauges just before each render', () => {
  const r = new MetricRegistry()
  const g = r.register(new Gauge('open', 'Open', ['kind']))
  let n = 0
  r.onCollect(() => {
    g.with('ws').value = ++n
  })
  expect(r.render()).toContain('open{kind="ws"} 1')
  expect(r.render()).toContain('open{kind="ws"} 2')
})

test('invalid names, label counts and buckets are refused with the reason', () => {
  expect(() => new Counter('bad-name', 'x')).toThrow('Metric name "bad-name" is invalid')
  expect(() => new Counter('calls_total', 'x')).toThrow('without the _total suffix')
  expect(() => new Gauge('g', 'x', ['__reserved'])).toThrow('Label name "__reserved"')
  expect(() => new Histogram('h', 'x', ['le'], [1])).toThrow('"le" is reserved')
  expect(() => new Histogram('h', 'x', [], [1, 1])).toThrow('strictly increasing')
  expect(() => new Counter('c', 'x', ['a']).with()).toThrow('c takes 1 label value(s) (a), got 0')
  const r = new MetricRegistry()
  r.register(new Gauge('dup', 'x'))
  expect(() => r.register(new Gauge('dup', 'y'))).toThrow('already registered')
})
