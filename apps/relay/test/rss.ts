import { readFileSync } from 'node:fs'
import { Worker } from 'node:worker_threads'

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
  /** Every sample, in MiB. */
  series: number[]
}

// a worker thread keeps the pace when the test's own event loop is busy with the load
const sampler = `
const { parentPort, workerData } = require('node:worker_threads')
const { readFileSync } = require('node:fs')
const samples = Object.fromEntries(Object.keys(workerData.pids).map((name) => [name, []]))
const take = () => {
  for (const [name, pid] of Object.entries(workerData.pids)) {
    try {
      const match = /^VmRSS:\\s+(\\d+)\\s+kB/m.exec(readFileSync('/proc/' + pid + '/status', 'utf8'))
      if (match) samples[name].push(Number(match[1]) * 1024)
    } catch {}
  }
}
take()
const timer = setInterval(take, workerData.intervalMs)
parentPort.once('message', () => {
  clearInterval(timer)
  take()
  parentPort.postMessage(samples)
})
`

/** Samples the RSS of some processes every `intervalMs` (in a worker thread) until `stop()`, which returns each one's summary. */
export function sampleRss(pids: Record<string, number>, intervalMs = 1000): { stop(): Promise<Record<string, RssSummary>> } {
  const worker = new Worker(sampler, { eval: true, workerData: { pids, intervalMs } })
  return {
    async stop() {
      const answer = new Promise<Record<string, number[]>>((resolve, reject) => {
        worker.once('message', resolve)
        worker.once('error', reject)
      })
      worker.postMessage('stop')
      const samples = await answer
      await worker.terminate()
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
    series: samples.map((s) => Math.round(s / MiB)),
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return 0
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
