import { assertNoPageErrors, startBrowserSession, type Tab } from './browser-session.ts'
import { alternate, type Bench, log, MiB, median, round, timed } from './harness.ts'

const SIZE = 24 * MiB
const VIEWERS = 10
const DONORS = 2
const RUNS = 3
/** Two resource nodes at 10 MB/s each: 20 MB/s of relay egress in all. */
const RELAYS = 2
const RELAY_EGRESS_BPS = 10_000_000

/**
 * `peer_offload_10_viewers`: 10 viewer tabs download the same 24 MiB public file at once while
 * the relays' egress is capped at 20 MB/s in all; 2 donor tabs hold it (seeded first, as the meta
 * node assigns popular public roots). The figure is bytes from peers ÷ all bytes. Measured in the
 * same run, alternating: the same 10 downloads from the relays only (`only` = the relays), whose
 * time the detail compares.
 */
export const peerOffload: Bench = {
  names: ['peer_offload_10_viewers'],
  browser: true,
  async run() {
    const s = await startBrowserSession({ resources: RELAYS, resourceEnv: { KONBINI_EGRESS_BPS: String(RELAY_EGRESS_BPS) } })
    try {
      const root = await s.putPublic('offload.bin', SIZE, RELAYS)
      await s.makePopular(root)
      const donors: Tab[] = []
      for (let i = 0; i < DONORS; i++) {
        const tab = await s.openTab(`donor ${i + 1}`)
        await tab.page.evaluate(() => globalThis.bench.donate())
        donors.push(tab)
      }
      const seeded = await timed(() => Promise.all(donors.map((d) => d.page.evaluate((r) => globalThis.bench.waitForCached(r), root))))
      log(`  ${DONORS} donor tabs hold the file (${Math.round(seeded)} ms)`)
      const viewers: Tab[] = []
      for (let i = 0; i < VIEWERS; i++) viewers.push(await s.openTab(`viewer ${i + 1}`))

      const shares: number[] = []
      const failures: string[] = []
      const seconds = { withPeers: [] as number[], relaysOnly: [] as number[] }
      const all = async (only?: string[]) => {
        const download = (v: Tab) => v.page.evaluate(([x, o]) => globalThis.bench.download(x, o), [root, only] as const)
        // a viewer whose download failed (a provider timed out under this load) tries once more,
        // after the others; the failure is counted, the retry's bytes are what is measured
        const settled = await Promise.allSettled(viewers.map(download))
        const results = []
        for (const [i, r] of settled.entries()) {
          if (r.status === 'fulfilled') results.push(r.value)
          else {
            failures.push(
              String((r.reason as Error).message)
                .split('\n')[0]
                ?.slice(0, 160) ?? '',
            )
            results.push(await download(viewers[i] as Tab))
          }
        }
        for (const r of results) if (r.bytes !== SIZE) throw new Error(`a viewer downloaded ${r.bytes} bytes, expected ${SIZE}`)
        const peers = results.reduce((n, r) => n + r.bytesFromPeers, 0)
        const total = results.reduce((n, r) => n + r.bytesFromPeers + r.bytesFromNodes, 0)
        return { peers, total, perViewerPeerShare: results.map((r) => round(r.bytesFromPeers / (r.bytesFromPeers + r.bytesFromNodes))) }
      }
      const perViewer: number[][] = []
      const konbini = async () => {
        let share = 0
        const ms = await timed(async () => {
          const r = await all()
          share = r.peers / r.total
          perViewer.push(r.perViewerPeerShare)
        })
        seconds.withPeers.push(ms / 1000)
        shares.push(share)
        return share
      }
      const relaysOnly = async () => {
        const ms = await timed(async () => {
          const r = await all(s.nodeIds)
          if (r.peers > 0) throw new Error('relays-only run took bytes from peers')
        })
        seconds.relaysOnly.push(ms / 1000)
        // the share of peers here is 0 by construction: the sample is the time
        return ms / 1000
      }
      log('  warm-up (not counted): every viewer connects to the donors once')
      await konbini()
      shares.length = 0
      seconds.withPeers.length = 0
      perViewer.length = 0
      const r = await alternate(RUNS, { konbini, relaysOnly }, { before: () => s.net.idle() })
      assertNoPageErrors([...donors, ...viewers])
      const ratio = r.medians.konbini
      const totalMB = (VIEWERS * SIZE) / 1e6
      const figure = {
        ratio,
        goal: '>= 0.6',
        baseline:
          'all bytes the 10 viewers downloaded (the ratio is the share from peers); measured alongside: the same 10 downloads from the relays only, alternating',
        detail: {
          unit: 'share of bytes from peers',
          sizeMiBPerViewer: SIZE / MiB,
          viewers: VIEWERS,
          donors: DONORS,
          relayEgressCapMBps: (RELAYS * RELAY_EGRESS_BPS) / 1e6,
          runs: RUNS,
          machineBusyPctPerRound: r.busyPct,
          peerShareSamples: shares.map(round),
          failedViewerDownloadsRetried: failures.length,
          failures: failures.slice(0, 5),
          perViewerPeerSharePerRun: perViewer,
          secondsWithPeers: round(median(seconds.withPeers)),
          secondsRelaysOnly: round(median(seconds.relaysOnly)),
          aggregateMBpsWithPeers: round(totalMB / median(seconds.withPeers)),
          aggregateMBpsRelaysOnly: round(totalMB / median(seconds.relaysOnly)),
          secondsWithPeersSamples: seconds.withPeers.map(round),
          secondsRelaysOnlySamples: seconds.relaysOnly.map(round),
          setup: `devnet 1 meta + ${RELAYS} resource nodes (KONBINI_EGRESS_BPS=${RELAY_EGRESS_BPS} each), file put public with R=${RELAYS}; ${DONORS} donor tabs seeded first (their caches filled by the meta node's assignment), ${VIEWERS} viewer tabs, one headless Chromium, bench network namespace`,
          notes:
            'viewers do not become donors after finishing: a tab that starts donating fills its cache from full nodes (fillCache), not from what it just viewed, which would spend more relay egress, not less',
        },
      }
      log(
        `  ${JSON.stringify({ name: 'peer_offload_10_viewers', baseline: 1, konbini: round(ratio), ratio: round(ratio), goal: figure.goal, met: ratio >= 0.6 })}`,
      )
      return { peer_offload_10_viewers: figure }
    } finally {
      await s.stop()
    }
  },
}
