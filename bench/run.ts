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
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
for (const bench of selected) {
  const t0 = performance.now()
  log(`${bench.names.join(' + ')}:`)
  const produced = await bench.run()
  const benchSeconds = Math.round((performance.now() - t0) / 1000)
  // where and when: a later partial run leaves other figures as they were measured
  for (const r of Object.values(produced)) Object.assign(r.detail, { benchSeconds, measuredAt: new Date().toISOString(), machine })
  Object.assign(results, produced)
  log(`  done in ${benchSeconds} s`)
}
const totalSeconds = Math.round((performance.now() - started) / 1000)
await writeResults(results)
process.stdout.write(`${formatTable(results)}\n\ntotal ${totalSeconds} s; results merged into ${resultsFile}\n`)
