import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One figure: Konbini against its baseline, measured in the same run. */
export interface BenchResult {
  ratio: number
  /** `">= 0.8"` or `"<= 5"`: how `ratio` must compare with the number. */
  goal: string
  /** What the baseline is, in words. */
  baseline: string
  /** Medians, every sample, sizes: enough to check the ratio by hand. */
  detail: Record<string, unknown>
  /** For a figure that is the median of runs: its worst run (lowest for `>=`, highest for `<=`)… */
  worst?: number
  /** …and the goal that run must meet too, e.g. `">= 0.7"`. */
  worstGoal?: string
}

/** A benchmark file: the figures it produces (its `names`) and how to measure them. */
export interface Bench {
  names: string[]
  /** Drives Chromium with WebRTC: `run.ts` runs the whole bench inside a network namespace of its own. */
  browser?: boolean
  run(): Promise<Record<string, BenchResult>>
}

export const MiB = 1024 * 1024

/** Where results are kept: `bench/results/latest.json`. */
export const resultsFile = fileURLToPath(new URL('./results/latest.json', import.meta.url))

/** The median of some numbers (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  if (s.length === 0) return Number.NaN
  const mid = s.length >> 1
  return s.length % 2 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

/**
 * Runs the measurements in turn (K, B, K, B, … for `{ konbini, baseline }`) `runs` times each;
 * every call returns one sample (ms, MB/s, …). Alternation spreads drift (page cache, heat, GC)
 * over all of them; each round first waits (bounded) for other work on the machine to calm down,
 * and `before` (untimed) runs before every measurement.
 * Returns every sample, the median of each, and the machine's busy share before each round.
 */
export async function alternate<K extends string>(
  runs: number,
  measures: Record<K, (i: number) => Promise<number>>,
  options: { before?: () => Promise<void> } = {},
) {
  const keys = Object.keys(measures) as K[]
  const samples = Object.fromEntries(keys.map((k) => [k, [] as number[]])) as Record<K, number[]>
  const busyPct: number[] = []
  for (let i = 0; i < runs; i++) {
    busyPct.push(Math.round((await waitQuiet(20)) * 100))
    for (const k of keys) {
      await options.before?.()
      samples[k].push(await measures[k](i))
    }
    log(`  run ${i + 1}/${runs}: ${keys.map((k) => `${k} ${round(samples[k][i] as number)}`).join(', ')} (machine ${busyPct[i]} % busy before)`)
  }
  const medians = Object.fromEntries(keys.map((k) => [k, median(samples[k])])) as Record<K, number>
  return { samples, medians, busyPct }
}

/**
 * A throughput figure (MB/s) from `alternate({ konbini, http })`: Konbini ÷ baseline, with the
 * medians, every sample and whatever the bench adds to `detail`.
 */
export function throughputFigure(
  r: { samples: Record<'konbini' | 'http', number[]>; medians: Record<'konbini' | 'http', number>; busyPct: number[] },
  figure: { goal: string; baseline: string; size: number; runs: number; detail: Record<string, unknown> },
): BenchResult {
  return {
    ratio: r.medians.konbini / r.medians.http,
    goal: figure.goal,
    baseline: figure.baseline,
    detail: {
      konbiniMBps: round(r.medians.konbini),
      httpMBps: round(r.medians.http),
      sizeMiB: figure.size / MiB,
      runs: figure.runs,
      machineBusyPctPerRound: r.busyPct,
      ...figure.detail,
      konbiniSamplesMBps: r.samples.konbini.map(round),
      httpSamplesMBps: r.samples.http.map(round),
    },
  }
}

/** Above this share of all cores busy, the machine is not quiet enough to start a measurement. */
export const QUIET = 0.3

/** Seconds of waiting for quiet left for the whole run, so a busy machine cannot stretch it without bound. */
let quietBudgetS = 240

/** Waits up to `maxSeconds` (within the run's budget) until the machine is at most QUIET busy; returns the last busy share. */
export async function waitQuiet(maxSeconds: number): Promise<number> {
  const started = performance.now()
  const limit = Math.min(maxSeconds, quietBudgetS) * 1000
  let busy = await machineBusy(500)
  while (busy > QUIET && performance.now() - started < limit) busy = await machineBusy(1000)
  quietBudgetS -= Math.max(0, (performance.now() - started) / 1000 - 0.5)
  return busy
}

/** The run farthest from meeting `goal`: the lowest sample for `>=`, the highest for `<=`. */
export function worstRun(samples: readonly number[], goal: string): number {
  return goal.trim().startsWith('<=') ? Math.max(...samples) : Math.min(...samples)
}

/**
 * A figure that is the median of per-run values (a share, a ratio of paired alternating runs):
 * the ratio is the median, `worst` the worst run; the detail shows both and every sample. Also
 * logs it as one JSON line.
 */
export function runsFigure(
  name: string,
  samples: readonly number[],
  figure: { goal: string; worstGoal?: string; baseline: string; unit: string; detail: Record<string, unknown> },
): Record<string, BenchResult> {
  const ratio = median(samples)
  const worst = worstRun(samples, figure.worstGoal ?? figure.goal)
  const result: BenchResult = {
    ratio,
    goal: figure.goal,
    baseline: figure.baseline,
    worst,
    ...(figure.worstGoal !== undefined && { worstGoal: figure.worstGoal }),
    detail: { unit: figure.unit, median: round(ratio), worstRun: round(worst), runs: samples.length, samples: samples.map(round), ...figure.detail },
  }
  log(
    `  ${JSON.stringify({ name, median: round(ratio), worst: round(worst), samples: samples.map(round), goal: figure.goal, ...(figure.worstGoal && { worstGoal: figure.worstGoal }), met: met(result) })}`,
  )
  return { [name]: result }
}

/** Whether a figure meets its goal, and its worst run its `worstGoal` when it has one. */
export function met(r: BenchResult): boolean {
  return goalMet(r.ratio, r.goal) && (r.worstGoal === undefined || r.worst === undefined || goalMet(r.worst, r.worstGoal))
}

/** Milliseconds `fn` takes. */
export async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now()
  await fn()
  return performance.now() - started
}

/** MB/s (10^6 bytes per second) for `bytes` moved in `ms`. */
export function mbps(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000)
}

/** Rounds for reports: 3 significant digits, integers above 1000. */
export function round(x: number): number {
  if (!Number.isFinite(x)) return x
  return Math.abs(x) >= 1000 ? Math.round(x) : Number(x.toPrecision(3))
}

/** Whether `ratio` meets a goal such as `">= 0.8"` or `"<= 1.15"`. */
export function goalMet(ratio: number, goal: string): boolean {
  const [op, num] = goal.trim().split(/\s+/)
  const target = Number(num)
  return op === '>=' ? ratio >= target : op === '<=' ? ratio <= target : false
}

/** Progress line on stderr (stdout carries the table). */
export function log(line: string): void {
  process.stderr.write(`${line}\n`)
}

/** A fresh temp folder; `cleanup` removes it with everything inside. */
export async function tempDir(prefix: string): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), `konbini-bench-${prefix}-`))
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) }
}

/** Writes `size` fresh random bytes to `path` in 4 MiB pieces. */
export async function writeRandomFile(path: string, size: number): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const handle = await open(path, 'w')
  try {
    for (let left = size; left > 0; left -= 4 * MiB) await handle.write(randomBytes(Math.min(left, 4 * MiB)))
  } finally {
    await handle.close()
  }
}

/** Share (0–1) of all cores busy over the next `ms`, from /proc/stat (Linux); NaN elsewhere. */
export async function machineBusy(ms = 1000): Promise<number> {
  const read = async () => {
    const line = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? ''
    const f = line.trim().split(/\s+/).slice(1).map(Number)
    const idle = (f[3] ?? 0) + (f[4] ?? 0)
    return { idle, total: f.reduce((a, b) => a + b, 0) }
  }
  try {
    const a = await read()
    await new Promise((r) => setTimeout(r, ms))
    const b = await read()
    return 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total)
  } catch {
    return Number.NaN
  }
}

/** Merges `results` into `bench/results/latest.json` (other keys are kept). */
export async function writeResults(results: Record<string, BenchResult>): Promise<void> {
  const previous = await readFile(resultsFile, 'utf8').then(
    (s) => JSON.parse(s) as Record<string, unknown>,
    () => ({}),
  )
  const merged = { ...previous, ...results }
  await mkdir(dirname(resultsFile), { recursive: true })
  await writeFile(resultsFile, `${JSON.stringify(merged, null, 2)}\n`)
}

/** A plain-text table: name, ratio, worst run (figures made of runs), goal, met?, and a one-line summary of the detail. */
export function formatTable(results: Record<string, BenchResult>): string {
  const rows = [['name', 'ratio', 'worst', 'goal', 'met?', 'detail']]
  for (const [name, r] of Object.entries(results)) {
    const goal = r.worstGoal === undefined ? r.goal : `${r.goal}, worst ${r.worstGoal}`
    rows.push([name, String(round(r.ratio)), r.worst === undefined ? '' : String(round(r.worst)), goal, met(r) ? 'yes' : 'NO', summary(r.detail)])
  }
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((row) => (row[c] ?? '').length))) ?? []
  return rows.map((row) => row.map((cell, c) => (c === row.length - 1 ? cell : cell.padEnd(widths[c] ?? 0))).join('  ')).join('\n')
}

function summary(detail: Record<string, unknown>): string {
  return Object.entries(detail)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k}=${round(v as number)}`)
    .join(' ')
}
