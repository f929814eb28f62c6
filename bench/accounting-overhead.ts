import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { createKonbiniClient, type KonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p, fsSource } from '@konbini/browser-node/node'
import { RECEIPT_INTERVAL_BYTES, spendFor, type SpendResponse } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import type { Hex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { nativeReceiptAccount } from '../apps/relay/src/pot/native-receipt-signing.ts'
import { type Bench, type BenchResult, log, MiB, mbps, median, round, runsFigure, waitQuiet, writeRandomFile } from './harness.ts'
import { type BenchNet, startBenchNet } from './net.ts'
import { PotTrace } from './pot-trace.ts'

const SIZE = 128 * MiB
/** Three holders: a download without receipts leaves each about a third of the file unsigned, under MAX_UNSIGNED_BYTES. */
const RESOURCES = 3
/**
 * Files, read in turn, each by both runs of a pair: within one devnet one file can read ~10 %
 * faster or slower than another of the same size for the whole run (two sets of paid files, A/A,
 * differed by 9 % in the median), so a pair compares one file with itself.
 */
const FILES = 3
/**
 * Paired runs (one download with receipts, one without) per transport, after warm-ups: HTTP is
 * the headline. One pair's ratio swings ±15 % on this machine, so the median needs many pairs to
 * tell a 2 % overhead.
 */
const PAIRS = { http: 24, libp2p: 9 }
const TRANSPORTS = ['http', 'libp2p'] as const
type Transport = (typeof TRANSPORTS)[number]
/** BENCH_POT_TRACE=<dir>: a timeline of every download there (see pot-trace.ts), to see whether providers wait for receipts. */
// biome-ignore lint/suspicious/noUndeclaredEnvVars: the bench is not a turbo task
const TRACE_DIR = process.env.BENCH_POT_TRACE

/** How the dev key's client reads: with receipts (as every paid download), or without (receipts off); `counts` are the receipts it signs (and the time signing took). */
interface Side {
  name: 'receipts' | 'none'
  net: BenchNet
  client: KonbiniClient
  libp2p: Libp2p
  address: string
  counts: { signed: number; signMs: number }
}

interface Run {
  mbps: number
  /** open() until the ticket and providers are back (ms). */
  openMs: number
  /** finish() (the last receipts handed over, the transfer report) after the last byte (ms). */
  finishMs: number
  /** Receipts the client signed during this download. */
  receipts: number
  /** Time spent inside signTypedData during this download (ms, summed over concurrent calls). */
  signMs: number
  payer: string
  blocksPerProvider: number[]
  /** CPU time (ms) each process spent during this download: the client (this process), each resource node, the meta node, anvil. */
  cpuMs: Record<string, number>
}

/**
 * `accounting_overhead`: what Proof of Traffic's receipts cost a download. One devnet with its
 * chain (1 meta + 3 resource nodes on 127.0.0.1) holds three random 128 MiB files of the dev
 * account's on all three nodes; the dev account's downloads of them are paid from its credit.
 * Each pair reads one file twice with the same in-process Node client (the dev key, signing as
 * the CLI does), from the same node processes over the same connections: once with receipts — a
 * cumulative EIP-712 receipt every RECEIPT_INTERVAL_BYTES (8 MiB) per provider, riding the next
 * want, verified by the provider (which holds back blocks past MAX_UNSIGNED_BYTES unsigned) and
 * forwarded to the meta node, the last ones handed to the meta node too — and once without (the
 * same paid ticket, receipts off: nothing signed, sent or checked but the transfer report both
 * send; each provider's unsigned third stays under the 64 MiB it tolerates). Pairs alternate which goes first; the figure is the
 * median of the pairs' throughput ratios (open → content → finish), over HTTP to the full nodes
 * (the default path: `accounting_overhead`) and over libp2p (`accounting_overhead_libp2p`).
 * (Comparing against an unpaid ticket meant another file — the meta node's, or another devnet's —
 * and the file alone moved the median by up to 9 %, A/A.) The bench checks that every run with
 * receipts had the dev account's paid ticket and signed receipts, every run without none, and
 * that the meta node counted the receipted bytes (the dev account's pending spend) and the
 * providers forwarded receipts. `BENCH_POT_TRACE=<dir>` adds a per-run timeline and how long each
 * provider held blocks back.
 */
export const accountingOverhead: Bench = {
  names: ['accounting_overhead', 'accounting_overhead_libp2p'],
  async run() {
    const trace = TRACE_DIR === undefined ? undefined : await PotTrace.create(TRACE_DIR, RESOURCES)
    // BENCH_RECEIPT_MAX_UNSIGNED_MIB (an experiment, see the probe) reaches the nodes with the rest of this environment
    const net = await startBenchNet({ resources: RESOURCES, chain: true, ...(trace && { nodeEnv: trace.nodeEnv }) })
    const cleanups: Array<() => void> = []
    const { client, libp2p, counts, address } = await devClient(net)
    try {
      if (net.devnet.file.chain === undefined) throw new Error('the devnet has no chain')
      // uploaded by the dev account: on a chain, uploads are paid traffic as well
      const roots: string[] = []
      for (let i = 0; i < FILES; i++) roots.push(await putRandom(net, client, `file${i}.bin`))
      const withReceipts: Side = { name: 'receipts', net, client, libp2p, address, counts }
      const without: Side = { name: 'none', net, client, libp2p, address, counts }
      log(`  put ${FILES} files of the dev account's, ${SIZE / MiB} MiB each, on ${RESOURCES} nodes`)
      const creditBefore = await spent(withReceipts)

      const results: Record<string, BenchResult> = {}
      let paidBytes = 0
      if (trace !== undefined) cleanups.push(trace.install())
      for (const transport of TRANSPORTS) {
        log(`  ${transport}: warm-up pair (not counted)`)
        const failures: string[] = []
        /**
         * A download; one that fails is reported: one with receipts counts as 0 MB/s (a provider
         * gave up waiting for receipts: what Proof of Traffic cost it), one without drops its pair.
         */
        const measure = async (side: Side, label: string, file: number): Promise<Run | undefined> => {
          const t0 = performance.now()
          try {
            const run = await download(side, transport, roots[file % FILES] as string, trace)
            if (side === withReceipts) paidBytes += SIZE
            return run
          } catch (err) {
            const failure = `${side.name} ${label}: ${(err as Error).name}: ${(err as Error).message} (after ${Math.round(performance.now() - t0)} ms)`
            log(`  ${side.name} download FAILED${side === withReceipts ? ', counted as 0 MB/s' : ', pair dropped'}: ${failure}`)
            failures.push(failure)
            return side === withReceipts
              ? { mbps: 0, openMs: Number.NaN, finishMs: Number.NaN, receipts: 0, signMs: 0, payer: '', blocksPerProvider: [], cpuMs: {} }
              : undefined
          }
        }
        for (let file = 0; file < FILES; file++) for (const side of [withReceipts, without]) await measure(side, 'warm-up', file)
        const runs: Record<Side['name'], Run[]> = { receipts: [], none: [] }
        const ratios: number[] = []
        const busyPct: number[] = []
        for (let i = 0; i < PAIRS[transport]; i++) {
          busyPct.push(Math.round((await waitQuiet(20)) * 100))
          // alternate which side goes first, so drift (heat, GC, page cache) does not favour one
          const pair: Partial<Record<Side['name'], Run>> = {}
          for (const side of i % 2 === 0 ? [withReceipts, without] : [without, withReceipts]) {
            await side.net.idle()
            pair[side.name] = await measure(side, `pair ${i + 1}`, i)
          }
          const { receipts: p, none: u } = pair
          if (p === undefined || u === undefined) continue
          runs.receipts.push(p)
          runs.none.push(u)
          ratios.push(p.mbps / u.mbps)
          log(
            `  ${transport} pair ${i + 1}/${PAIRS[transport]} (file ${i % FILES}): with receipts ${round(p.mbps)} MB/s (${p.receipts} receipts, ${round(p.signMs)} ms signing, CPU ms ${JSON.stringify(p.cpuMs)}), without ${round(u.mbps)} MB/s (CPU ms ${JSON.stringify(u.cpuMs)}), ratio ${round(p.mbps / u.mbps)} (machine ${busyPct[i]} % busy before)`,
          )
        }
        const name = transport === 'http' ? 'accounting_overhead' : 'accounting_overhead_libp2p'
        Object.assign(
          results,
          runsFigure(name, ratios, {
            goal: '>= 0.98',
            baseline: `the same ${SIZE / MiB} MiB file's download over ${transport === 'http' ? 'HTTP (POST /v1/blocks)' : 'libp2p (/konbini/blocks)'} under the same kind of paid ticket without receipts, paired runs in the same bench run`,
            unit: 'with ÷ without receipts download throughput, per pair',
            detail: {
              transport,
              withReceiptsMBps: round(median(runs.receipts.map((r) => r.mbps))),
              withoutMBps: round(median(runs.none.map((r) => r.mbps))),
              sizeMiB: SIZE / MiB,
              devnet: `1 meta + ${RESOURCES} resource nodes on 127.0.0.1 with its chain (anvil), ${FILES} files of the dev account's on all ${RESOURCES}, its credit paying`,
              receiptsPerRun: median(completed(runs.receipts).map((r) => r.receipts)),
              signMsPerRun: round(median(completed(runs.receipts).map((r) => r.signMs))),
              openMs: round(median(runs.none.map((r) => r.openMs))),
              finishMsWithReceipts: round(median(completed(runs.receipts).map((r) => r.finishMs))),
              finishMsWithout: round(median(runs.none.map((r) => r.finishMs))),
              payer: runs.receipts.find((r) => r.payer !== '')?.payer,
              failures,
              machineBusyPctPerRound: busyPct,
              withReceiptsSamplesMBps: runs.receipts.map((r) => round(r.mbps)),
              withoutSamplesMBps: runs.none.map((r) => round(r.mbps)),
              withReceiptsCpuMsPerRun: medianPerProcess(completed(runs.receipts)),
              withoutCpuMsPerRun: medianPerProcess(runs.none),
              blocksPerProviderWithReceipts: runs.receipts.map((r) => r.blocksPerProvider),
            },
          }),
        )
      }

      // the receipts reached the providers and the meta node: the dev account's spend grew by
      // (at least) every receipted byte, and the providers forwarded receipts
      const expected = spendFor(BigInt(paidBytes)) - 16n // a wei of rounding per epoch at most
      const deadline = performance.now() + 20_000
      let grew = (await spent(withReceipts)) - creditBefore
      while (grew < expected && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 500))
        grew = (await spent(withReceipts)) - creditBefore
      }
      if (grew < expected) throw new Error(`the meta node counted ${grew} wei of spend for ${paidBytes} paid bytes, expected at least ${expected}`)
      const forwarded = await forwardedReceipts(net)
      if (forwarded === 0) throw new Error('the providers forwarded no receipts')
      log(`  checked: meta node counted ${grew} wei (≥ ${expected} for ${paidBytes} paid bytes); providers forwarded ${forwarded} receipts`)
      for (const r of Object.values(results))
        Object.assign(r.detail, { paidBytesCounted: paidBytes, creditSpendGrewWei: String(grew), receiptsForwardedByProviders: forwarded })
      return results
    } finally {
      for (const undo of cleanups) undo()
      await Promise.allSettled([libp2p.stop()])
      await net.stop()
    }
  },
}

/** Per process, the median CPU ms over `runs`. */
function medianPerProcess(runs: Run[]): Record<string, number> {
  const names = new Set(runs.flatMap((r) => Object.keys(r.cpuMs)))
  return Object.fromEntries([...names].map((name) => [name, median(runs.map((r) => r.cpuMs[name] ?? 0))]))
}

/** The runs that did not fail. */
const completed = (runs: Run[]) => runs.filter((r) => r.payer !== '')

/** A client on `net` with the devnet's dev key (signing receipts as the CLI does: natively), its receipt signatures counted. */
async function devClient(net: BenchNet): Promise<{ client: KonbiniClient; libp2p: Libp2p; counts: Side['counts']; address: string }> {
  const dev = nativeReceiptAccount(net.devnet.file.devKey as Hex)
  const libp2p = await createNodeClientLibp2p()
  const counts = { signed: 0, signMs: 0 }
  const account: LocalAccount = {
    ...dev,
    async signTypedData(typedData) {
      const t0 = performance.now()
      try {
        return await dev.signTypedData(typedData)
      } finally {
        if (typedData.primaryType === 'Receipt') {
          counts.signed++
          counts.signMs += performance.now() - t0
        }
      }
    },
  }
  return { client: createKonbiniClient({ metaUrls: net.metaUrls, account, libp2p }), libp2p, counts, address: dev.address }
}

/** Uploads SIZE random bytes to both nodes with `client` (its key owns the file); returns the root. */
async function putRandom(net: BenchNet, client: KonbiniClient, name: string): Promise<string> {
  const path = join(net.dir, name)
  await writeRandomFile(path, SIZE)
  const source = await fsSource(path)
  const { root, holders } = await client.put(source.candidates(), { name, size: source.size, replicas: RESOURCES })
  if (holders.length !== RESOURCES) throw new Error(`${name}: put on ${holders.length} holders, expected ${RESOURCES}`)
  return root
}

/** Reads the whole file once (verified by the pool, not written); checks the ticket and receipts match the side. */
async function download(side: Side, transport: Transport, root: string, trace: PotTrace | undefined): Promise<Run> {
  const signedBefore = side.counts.signed
  const signMsBefore = side.counts.signMs
  const traced = await trace?.begin(transport, side.name === 'receipts')
  const processes = processesOf(side)
  const cpuBefore = processes.map(({ pid }) => processCpuMs(pid))
  const clientBefore = process.cpuUsage()
  const t0 = performance.now()
  const d = await side.client.open(root, { transport, receipts: side.name === 'receipts' })
  const openMs = performance.now() - t0
  let lastByteAt = Number.NaN
  let bytes = 0
  let ms = 0
  try {
    try {
      if (d.entry.type !== 'file') throw new Error(`${root} is not a file`)
      for await (const chunk of d.entry.content({ blockReadConcurrency: d.readAhead })) bytes += chunk.byteLength
    } finally {
      lastByteAt = performance.now()
      await d.finish()
    }
    ms = performance.now() - t0
  } catch (err) {
    traced?.failed(err as Error)
    throw err
  } finally {
    const peerIds = side.net.devnet.nodes.map((n) => n.ready?.peerId ?? '')
    await traced?.end({ name: side.name, ticketId: d.ticket.ticket.id, ms, t0, peerIds })
  }
  const clientCpu = process.cpuUsage(clientBefore)
  const cpuMs: Record<string, number> = { client: Math.round((clientCpu.user + clientCpu.system) / 1000) }
  processes.forEach(({ name, pid }, i) => {
    cpuMs[name] = processCpuMs(pid) - (cpuBefore[i] ?? 0)
  })
  if (bytes !== SIZE) throw new Error(`read ${bytes} bytes, expected ${SIZE}`)
  const payer = d.ticket.ticket.payer.toLowerCase()
  const receipts = side.counts.signed - signedBefore
  if (payer !== side.address.toLowerCase()) throw new Error(`${side.name}: the ticket's payer is ${payer}, not the dev account`)
  // one per RECEIPT_INTERVAL_BYTES per provider, give or take the last one per provider
  if (side.name === 'receipts' && receipts < Math.floor(SIZE / RECEIPT_INTERVAL_BYTES) - RESOURCES)
    throw new Error(`only ${receipts} receipts signed for ${SIZE / MiB} MiB`)
  if (side.name === 'none' && receipts !== 0) throw new Error(`${receipts} receipts signed without a signer`)
  return {
    mbps: mbps(SIZE, ms),
    openMs,
    finishMs: t0 + ms - lastByteAt,
    receipts,
    signMs: side.counts.signMs - signMsBefore,
    payer,
    blocksPerProvider: d.pool.stats().map((p) => p.blocks),
    cpuMs,
  }
}

/** The devnet's processes whose CPU time a run records. */
function processesOf(side: Side): Array<{ name: string; pid: number }> {
  const { devnet } = side.net
  return [
    ...devnet.nodes.map((n, i) => ({ name: `node${i + 1}`, pid: n.ready?.pid ?? 0 })),
    ...devnet.metas.map((m, i) => ({ name: `meta${i + 1}`, pid: m.ready?.pid ?? 0 })),
    ...(devnet.chain ? [{ name: 'anvil', pid: devnet.chain.anvil.process.pid ?? 0 }] : []),
  ].filter((p) => p.pid > 0)
}

/** User + system CPU time of a process so far (ms), from /proc (Linux); 0 when unreadable. */
function processCpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // the fields after the command name: utime and stime are the 12th and 13th, in clock ticks (100 per second)
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) * 10
  } catch {
    return 0
  }
}

/** The dev account's spend as the meta node counts it: settled plus pending (wei). */
async function spent(side: Side): Promise<bigint> {
  const res = await fetch(new URL(`/v1/credit/${side.address}`, side.net.metaUrls[0]))
  if (!res.ok) throw new Error(`GET /v1/credit answered ${res.status}`)
  const s = (await res.json()) as SpendResponse
  return BigInt(s.cumulativeSpent) + BigInt(s.pending)
}

/** `konbini_receipts_forwarded_total` summed over the devnet's resource nodes. */
async function forwardedReceipts(net: BenchNet): Promise<number> {
  let total = 0
  for (const node of net.devnet.nodes) {
    const url = node.ready?.httpUrl
    if (url === undefined) continue
    const text = await (await fetch(`${url}/metrics`)).text()
    for (const m of text.matchAll(/^konbini_receipts_forwarded_total(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/gm)) total += Number(m[1])
  }
  return total
}
