/**
 * `npm run bench [-- name …]`: runs every benchmark (or those named), prints a table, and merges
 * the figures into `bench/results/latest.json`. Not part of `npm test`.
 */
import { cpus, loadavg } from 'node:os'
import { blockExchangeVsRawTcp } from './block-exchange-vs-raw-tcp.ts'
import { downloadVsHttp } from './download-vs-http.ts'
import { type Bench, type BenchResult, formatTable, log, resultsFile, round, writeResults } from './harness.ts'
import { slowProviderPenalty } from './slow-provider-penalty.ts'
import { ttfbVsBlockFetch } from './ttfb-vs-block-fetch.ts'
import { uploadR3VsHttp } from './upload-r3-vs-http.ts'

const benches: Bench[] = [downloadVsHttp, uploadR3VsHttp, ttfbVsBlockFetch, slowProviderPenalty, blockExchangeVsRawTcp]

const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !benches.some((b) => b.names.includes(w)))
if (unknown.length > 0) {
  log(`unknown benchmark(s): ${unknown.join(', ')}; known: ${benches.flatMap((b) => b.names).join(', ')}`)
  process.exit(1)
}
const selected = wanted.length === 0 ? benches : benches.filter((b) => b.names.some((n) => wanted.includes(n)))

const started = performance.now()
const results: Record<string, BenchResult> = {}
const failed: string[] = []
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
for (const bench of selected) {
  const t0 = performance.now()
  log(`${bench.names.join(' + ')}:`)
  const loadBefore = loadavg()[0] ?? 0
  let produced: Record<string, BenchResult>
  try {
    produced = await bench.run()
  } catch (err) {
    failed.push(bench.names.join('+'))
    log(`  FAILED: ${(err as Error).stack ?? err}`)
    continue
  }
  const benchSeconds = Math.round((performance.now() - t0) / 1000)
  // where, when and how busy the machine was: a later partial run keeps other figures as measured
  const load1m = [round(loadBefore), round(loadavg()[0] ?? 0)]
  for (const r of Object.values(produced)) Object.assign(r.detail, { benchSeconds, measuredAt: new Date().toISOString(), machine, load1mBeforeAfter: load1m })
  Object.assign(results, produced)
  log(`  done in ${benchSeconds} s`)
}
const totalSeconds = Math.round((performance.now() - started) / 1000)
await writeResults(results)
process.stdout.write(`${formatTable(results)}\n\ntotal ${totalSeconds} s; results merged into ${resultsFile}\n`)
if (failed.length > 0) {
  log(`failed: ${failed.join(', ')}`)
  process.exitCode = 1
}
