/**
 * @module bench/lib/results
 * The shape of a run's results (bench/out/report/results.json) and the report rendered from them.
 */
import type { ProfileSummary } from './profile.ts'
import type { ScaleOutResult } from './scale-out.ts'

export interface Options {
  quick: boolean
  rounds: number
  seconds: number
  warmup: number
  connections: number
  wsSockets: number
  only?: string[]
  memory: boolean
  memorySteps: number[]
  profile: boolean
  profileSeconds: number
}

export interface Sample {
  round: number
  requests: number
  durationS: number
  rps: number
  cpuUsPerReq: number
  /** Server CPU over the window, in cores (1 = one core saturated). */
  serverCores: number
  generatorCores: number
  /** CPU used by every other process of the machine over the window, in cores. */
  backgroundCores: number
  p50Us: number
  p90Us: number
  p99Us: number
  maxUs: number
  errors: number
  /** Redis commands per request over the window (targets that keep their state in Redis). */
  redisPerCall?: number
}

export interface TargetResult {
  key: string
  n: string
  label: string
  /** Key of the target the ratios are taken against. */
  reference: string
  runtime: string
  reply: string
  status: 'ok' | 'skipped' | 'failed'
  reason?: string
  note?: string
  samples: Sample[]
  peakRssKb?: number
}

export interface MemoryResult {
  transport: string
  /** `mcprag`, or `raw` for the floor of a bare Bun.serve holding the same connection. */
  server: string
  label: string
  /** The limit; undefined for the floor rows. */
  targetKb?: number
  status: 'ok' | 'skipped' | 'failed'
  reason?: string
  baselineKb?: number
  steps: { connections: number; rssKb: number; perConnKb: number; marginalKb: number }[]
}

export interface ProfileResult {
  key: string
  label: string
  file: string
  markdown?: string
  rps: number
  /** Requests wrk completed while the profile ran, and the server CPU per request then (profiler on). */
  requests: number
  cpuUsPerReq: number
  summary: ProfileSummary
}

export interface RunInfo {
  date: string
  durationS: number
  machine: { cpu: string; cores: number; memGb: number; kernel: string; os: string }
  versions: Record<string, string>
  git: string
  pinned: boolean
  loadStart: [number, number, number]
  loadEnd: [number, number, number]
  options: Options
  command: string
}

export interface Results {
  info: RunInfo
  targets: TargetResult[]
  memory: MemoryResult[]
  profiles: ProfileResult[]
  /** Issue 9: cross-instance latency and several instances behind nginx (absent in older results). */
  scaleOut?: ScaleOutResult
}

