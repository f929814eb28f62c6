import { assertNoPageErrors, startBrowserSession, type Tab } from './browser-session.ts'
import { alternate, type Bench, log, MiB, median, round, runsFigure, timed } from './harness.ts'
import { limitHits, readRelayCounters } from './limits.ts'

/** 16 MiB each (24 before the 8 MB/s cap): a relays-only run of 10 viewers stays near 20 s, the bench near 4 minutes. */
const SIZE = 16 * MiB
const VIEWERS = 10
const DONORS = 2
const RUNS = 5
/** Two resource nodes at 4 MB/s each: 8 MB/s of relay egress in all. */
const RELAYS = 2
const RELAY_EGRESS_BPS = 4_000_000

/**
 * `peer_offload_10_viewers`: 10 viewer tabs download the same 16 MiB public file at once while
 * the relays' egress is capped at 8 MB/s in all; 2 donor tabs hold it (seeded first, as the meta
 * node assigns popular public roots). The figure is bytes from peers ÷ all bytes, the median of
 * 5 runs. `peer_offload_speed`, from the same runs: the 10 viewers' time with the donors ÷ their
 * time for the same 10 downloads from the relays only (`only` = the relays), run alternately; the
 * median of the 5 paired runs' ratios. Both show their worst run and every sample, and how often
 * a per-source limit refused or held back a request (goal: never).
 */
export const peerOffload: Bench = {
  names: ['peer_offload_10_viewers', 'peer_offload_speed'],
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
      const donorsNamed: number[][] = []
      /** Why a viewer could not open a stream to a donor tab (dial or protocol errors). */
      const streamErrors: string[] = []
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
        // how many donor tabs the meta node named to each viewer (0: the viewer could not use peers)
        if (only === undefined) {
          donorsNamed.push(results.map((r) => r.providers.filter((p) => p.kind === 'light').length))
          streamErrors.push(...results.flatMap((r) => r.streamErrors))
        }
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
      // limits are counted over every viewer download, the warm-up's too
      const relaysBefore = await readRelayCounters(s.httpUrls)
      log('  warm-up (not counted): every viewer connects to the donors once')
      await konbini()
      shares.length = 0
      seconds.withPeers.length = 0
      perViewer.length = 0
      donorsNamed.length = 0
      streamErrors.length = 0
      const tabs = [...donors, ...viewers]
      const r = await alternate(RUNS, { konbini, relaysOnly }, { before: () => s.net.idle() })
      await s.net.idle()
      const limits = limitHits(
        relaysBefore,
        await readRelayCounters(s.httpUrls),
        tabs.flatMap((t) => t.refusals),
      )
      if (limits.total > 0) log(`  per-source limits refused or held back ${limits.total} request(s): ${JSON.stringify(limits)}`)
      assertNoPageErrors(tabs)
      const totalMB = (VIEWERS * SIZE) / 1e6
      // paired runs: each with-peers run and the relays-only run after it
      const speedSamples = seconds.withPeers.map((w, i) => w / (seconds.relaysOnly[i] as number))
      const common = {
        sizeMiBPerViewer: SIZE / MiB,
        viewers: VIEWERS,
        donors: DONORS,
        relayEgressCapMBpsTotal: (RELAYS * RELAY_EGRESS_BPS) / 1e6,
        machineBusyPctPerRound: r.busyPct,
        limitHits: limits.total,
        limits,
        failedViewerDownloadsRetried: failures.length,
        failures: failures.slice(0, 5),
        secondsWithPeers: round(median(seconds.withPeers)),
        secondsRelaysOnly: round(median(seconds.relaysOnly)),
        aggregateMBpsWithPeers: round(totalMB / median(seconds.withPeers)),
        aggregateMBpsRelaysOnly: round(totalMB / median(seconds.relaysOnly)),
        secondsWithPeersSamples: seconds.withPeers.map(round),
        secondsRelaysOnlySamples: seconds.relaysOnly.map(round),
        setup: `devnet 1 meta + ${RELAYS} resource nodes (KONBINI_EGRESS_BPS=${RELAY_EGRESS_BPS} each), file put public with R=${RELAYS}; ${DONORS} donor tabs seeded first (their caches filled by the meta node's assignment), ${VIEWERS} viewer tabs, one headless Chromium, bench network namespace; with-peers and relays-only runs alternate`,
      }
      return {
        ...runsFigure('peer_offload_10_viewers', shares, {
          goal: '>= 0.6',
          baseline:
            'all bytes the 10 viewers downloaded (the ratio is the share from peers, the median of the runs); measured alongside: the same 10 downloads from the relays only, alternating',
          unit: 'share of bytes from peers',
          detail: {
            ...common,
            perViewerPeerSharePerRun: perViewer,
            donorsNamedPerViewerPerRun: donorsNamed,
            donorStreamErrors: streamErrors.length,
            donorStreamErrorExamples: [...new Set(streamErrors)].slice(0, 5),
            notes:
              'viewers do not become donors after finishing: a tab that starts donating fills its cache from full nodes (fillCache), not from what it just viewed, which would spend more relay egress, not less',
          },
        }),
        ...runsFigure('peer_offload_speed', speedSamples, {
          goal: '<= 1',
          baseline: 'the same 10 downloads from the relays only (8 MB/s of egress in all), in the run right after; the ratio is the median of the paired runs',
          unit: 'seconds with 2 donors ÷ seconds relays only',
          detail: { ...common, ratioOfMedianSeconds: round(median(seconds.withPeers) / median(seconds.relaysOnly)) },
        }),
      }
    } finally {
      await s.stop()
    }
  },
}
