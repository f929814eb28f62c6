import { readFileSync } from 'node:fs'

const MiB = 1024 * 1024

/** Resident memory of a process in bytes (`VmRSS` in `/proc/<pid>/status`), or undefined once it is gone. */
export function readRss(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) * 1024 : undefined
  } catch {
    return undefined
  }
}

export interface RssSummary {
  samples: number
  peakMiB: number
  /** Medians of the first and last third of the samples: steady growth shows as last ≫ first. */
  firstThirdMiB: number
  lastThirdMiB: number
}

/** Samples the RSS of some processes every `intervalMs` until `stop()`, which returns each one's summary. */
export function sampleRss(pids: Record<string, number>, intervalMs = 1000): { stop(): Record<string, RssSummary> } {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(pids).map((name) => [name, []]))
  const take = () => {
    for (const [name, pid] of Object.entries(pids)) {
      const rss = readRss(pid)
      if (rss !== undefined) samples[name]?.push(rss)
    }
  }
  take()
  const timer = setInterval(take, intervalMs)
  return {
    stop() {
      clearInterval(timer)
      take()
      if (process.env.LOAD_DEBUG)
        for (const [name, s] of Object.entries(samples)) process.stderr.write(`rss ${name} ${s.map((b) => Math.round(b / MiB)).join(' ')}\n`)
      return Object.fromEntries(Object.entries(samples).map(([name, s]) => [name, summarize(s)]))
    },
  }
}

function summarize(samples: number[]): RssSummary {
  const third = Math.max(1, Math.floor(samples.length / 3))
  const mib = (n: number) => Math.round((n / MiB) * 10) / 10
  return {
    samples: samples.length,
    peakMiB: mib(Math.max(0, ...samples)),
    firstThirdMiB: mib(median(samples.slice(0, third))),
    lastThirdMiB: mib(median(samples.slice(-third))),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return 0
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
