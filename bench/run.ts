/**
 * `npm run bench [-- name …]`: runs every benchmark (or those named), prints a table, and merges
 * the figures into `bench/results/latest.json`. Not part of `npm test`.
 * Profiling: `BENCH_CPU_PROF_DIR=/tmp/prof npm run bench -- name` makes every resource relay write
 * a CPU profile there; `node --cpu-prof bench/run.ts name` profiles the client side (this process).
 */
import { execFileSync } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { accountingOverhead } from './accounting-overhead.ts'
import { blockExchangeVsRawTcp } from './block-exchange-vs-raw-tcp.ts'
import { browserImportVsDigest } from './browser-import.ts'
import { downloadVsHttp } from './download-vs-http.ts'
import { type Bench, type BenchResult, formatTable, log, machineBusy, QUIET, resultsFile, round, waitQuiet, writeResults } from './harness.ts'
import { stopAllNets } from './net.ts'
import { peerOffload } from './peer-offload.ts'
import { runInNetns } from './netns.ts'
import { portalSave } from './portal-save.ts'
import { receiptsVerify } from './receipts-verify.ts'
import { relayToTabVsFetch } from './relay-to-tab.ts'
import { slowProviderPenalty } from './slow-provider-penalty.ts'
import { tabToTab, threeCappedDonors } from './tab-to-tab.ts'
import { tabUploadVsFetchPost } from './tab-upload.ts'
import { ttfbVsBlockFetch } from './ttfb-vs-block-fetch.ts'
import { uploadR3VsHttp } from './upload-r3-vs-http.ts'

const benches: Bench[] = [
  downloadVsHttp,
  uploadR3VsHttp,
  ttfbVsBlockFetch,
  slowProviderPenalty,
  blockExchangeVsRawTcp,
  receiptsVerify,
  accountingOverhead,
  // in Chromium, inside a network namespace of their own
  relayToTabVsFetch,
  tabToTab,
  threeCappedDonors,
  peerOffload,
  portalSave,
  browserImportVsDigest,
  tabUploadVsFetchPost,
]

const wanted = process.argv.slice(2)
const unknown = wanted.filter((w) => !benches.some((b) => b.names.includes(w)))
if (unknown.length > 0) {
  log(`unknown benchmark(s): ${unknown.join(', ')}; known: ${benches.flatMap((b) => b.names).join(', ')}`)
  process.exit(1)
}
const selected = wanted.length === 0 ? benches : benches.filter((b) => b.names.some((n) => wanted.includes(n)))
// browser benches need WebRTC, which needs a network namespace (STACK.md): run this whole script
// again inside one of its own, as `npm test` does, and end when it ends
if (selected.some((b) => b.browser) && (await runInNetns())) process.exit(process.exitCode ?? 0)

const started = performance.now()
const results: Record<string, BenchResult> = {}
const failed: string[] = []
const QUIET_WAIT_S = 60
const commit = (() => {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== ''
    return dirty ? `${head}+uncommitted changes` : head
  } catch {
    return 'unknown'
  }
})()
// a product bug signal (a setTimeout past 2^31 ms fires at once): counted per benchmark
let overflowWarnings = 0
process.on('warning', (w) => {
  if (w.name === 'TimeoutOverflowWarning') overflowWarnings++
})
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    log(`${signal}: stopping the bench networks`)
    void stopAllNets().finally(() => process.exit(130))
  })
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`
for (const bench of selected) {
  const t0 = performance.now()
  log(`${bench.names.join(' + ')}:`)
  // other work on the machine skews every figure: wait a little for it to calm down, and record it
  let busy = await machineBusy()
  if (busy > QUIET) {
    log(`  machine ${Math.round(busy * 100)} % busy (other processes); waiting up to ${QUIET_WAIT_S} s for it to calm down`)
    busy = await waitQuiet(QUIET_WAIT_S)
  }
  const loadBefore = loadavg()[0] ?? 0
  overflowWarnings = 0
  let produced: Record<string, BenchResult>
  try {
    produced = await bench.run()
  } catch (err) {
    failed.push(bench.names.join('+'))
    log(`  FAILED: ${(err as Error).stack ?? err}`)
    for (let cause = (err as { cause?: unknown }).cause; cause !== undefined; cause = (cause as { cause?: unknown }).cause) log(`  cause: ${String(cause)}`)
    continue
  }
  const benchSeconds = Math.round((performance.now() - t0) / 1000)
  // where, when and how busy the machine was: a later partial run keeps other figures as measured
  const context = {
    benchSeconds,
    measuredAt: new Date().toISOString(),
    commit,
    machine,
    machineBusyPctBefore: Math.round(busy * 100),
    load1mBeforeAfter: [round(loadBefore), round(loadavg()[0] ?? 0)],
    timeoutOverflowWarnings: overflowWarnings,
  }
  for (const r of Object.values(produced)) Object.assign(r.detail, context)
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
