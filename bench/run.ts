/**
 * `npm run bench [-- name …]`: runs every benchmark (or those named), prints a table, and merges
 * the figures into `bench/results/latest.json`. Not part of `npm test`.
 */
import { cpus } from 'node:os'
import { blockExchangeVsRawTcp } from './block-exchange-vs-raw-tcp.ts'
import { downloadVsHttp } from './download-vs-http.ts'
import { type Bench, type BenchResult, formatTable, log, resultsFile, writeResults } from './harness.ts'
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
const seconds: Record<string, number> = {}
for (const bench of selected) {
  const t0 = performance.now()
  log(`${bench.names.join(' + ')}:`)
  Object.assign(results, await bench.run())
  seconds[bench.names.join('+')] = Math.round((performance.now() - t0) / 1000)
  log(`  done in ${seconds[bench.names.join('+')]} s`)
}
const totalSeconds = Math.round((performance.now() - started) / 1000)
await writeResults(results, {
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  cpu: cpus()[0]?.model,
  totalSeconds,
  secondsPerBench: seconds,
})
process.stdout.write(`${formatTable(results)}\n\ntotal ${totalSeconds} s; results merged into ${resultsFile}\n`)
