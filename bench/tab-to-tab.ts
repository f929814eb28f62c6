import { assertNoPageErrors, rateFigure, startBrowserSession, type Tab } from './browser-session.ts'
import { alternate, type Bench, log, MiB, mbps, round, runsFigure, timed } from './harness.ts'
import { limitHits, readRelayCounters } from './limits.ts'

const SIZE = 64 * MiB
/** three_peers_vs_one: 128 blocks of 1 MiB, twice the read-ahead (64), so the pool's measured rates, not only the meta node's priors, place work. */
const SIZE3 = 128 * MiB
const RUNS = 5

/**
 * `tab_to_tab_vs_datachannel`: tab V downloads a 64 MiB public file from donor tab A only (the
 * client's `only` providers: no relay) against a bare `RTCDataChannel` carrying the same bytes
 * from A to V (64 KiB messages, signalled by the bench: no libp2p).
 * `three_peers_vs_one`: V downloads it from donor tabs A, B and C at once against from A alone.
 * Every tab in one Chromium; the first transfer on each connection is a warm-up (not counted).
 */
export const tabToTab: Bench = {
  names: ['tab_to_tab_vs_datachannel', 'three_peers_vs_one'],
  browser: true,
  async run() {
    const s = await startBrowserSession({ resources: 3 })
    try {
      const root = await s.putPublic('tab-to-tab.bin', SIZE, 3)
      const root3 = await s.putPublic('three-peers.bin', SIZE3, 3)
      await s.makePopular(root)
      await s.makePopular(root3)
      const donors: Array<Tab & { peerId: string }> = []
      for (const label of ['donor A', 'donor B', 'donor C']) {
        const tab = await s.openTab(label)
        donors.push({ ...tab, peerId: await tab.page.evaluate(() => globalThis.bench.donate()) })
      }
      const seeded = await timed(() =>
        Promise.all(donors.flatMap((d) => [root, root3].map((x) => d.page.evaluate((r) => globalThis.bench.waitForCached(r), x)))),
      )
      log(`  3 donor tabs hold the file (${Math.round(seeded)} ms)`)
      const viewer = await s.openTab('viewer')
      const [a] = donors as [Tab & { peerId: string }]

      // the bare channel between donor A (sender) and the viewer (receiver)
      const offer = await a.page.evaluate(() => globalThis.bench.rtcOffer())
      const answer = await viewer.page.evaluate((o) => globalThis.bench.rtcAnswer(o), offer)
      await a.page.evaluate((x) => globalThis.bench.rtcAccept(x), answer)

      const from =
        (only: string[], file = root, size = SIZE) =>
        async () => {
          const ms = await timed(async () => {
            const r = await viewer.page.evaluate(([x, o]) => globalThis.bench.download(x, o), [file, only] as const)
            if (r.bytes !== size) throw new Error(`downloaded ${r.bytes} bytes, expected ${size}`)
            if (r.bytesFromNodes > 0) throw new Error(`${r.bytesFromNodes} bytes came from full nodes; only donor tabs were asked`)
            shares.push(r.providers.map((p) => Math.round(p.bytes / MiB)))
            if (only.length > 1)
              log(
                `    ${JSON.stringify(r.providers.map(({ peerId, bytes, failures, priorBps }) => ({ p: peerId.slice(-6), mib: Math.round(bytes / MiB), failures, priorMBps: Math.round(priorBps / 1e6) })))} ${r.streamErrors.join('; ')}`,
              )
          })
          return mbps(size, ms)
        }
      const shares: number[][] = []
      const dataChannel = async () => {
        await viewer.page.evaluate((n) => globalThis.bench.rtcExpect(n), SIZE)
        const ms = await timed(() =>
          Promise.all([a.page.evaluate((n) => globalThis.bench.rtcSend(n), SIZE), viewer.page.evaluate(() => globalThis.bench.rtcReceived())]),
        )
        return mbps(SIZE, ms)
      }
      const oneDonor = from([a.peerId])
      const threeDonors = from(
        donors.map((d) => d.peerId),
        root3,
        SIZE3,
      )
      const oneDonor3 = from([a.peerId], root3, SIZE3)
      log('  warm-up (not counted): every connection carries one transfer first')
      await oneDonor()
      await dataChannel()
      await threeDonors()
      await oneDonor3()
      shares.length = 0

      log('  tab_to_tab_vs_datachannel')
      const t2t = await alternate(RUNS, { konbini: oneDonor, baseline: dataChannel })
      shares.length = 0
      log('  three_peers_vs_one')
      const three = await alternate(RUNS, { konbini: threeDonors, baseline: oneDonor3 })
      const servedMiB = await Promise.all(donors.map((d) => d.page.evaluate(() => globalThis.bench.servedBytes()).then((b) => Math.round(b / MiB))))
      assertNoPageErrors([...donors, viewer])
      const setup =
        'devnet 1 meta + 3 resource nodes (file put public, R=3; donors filled their caches from them), 3 donor tabs + 1 viewer tab in one headless Chromium, bench network namespace; timed from the bench process around page.evaluate'
      return {
        ...rateFigure('tab_to_tab_vs_datachannel', t2t, {
          goal: '>= 0.7',
          baseline:
            'a bare RTCDataChannel (ordered, 64 KiB messages, send buffer kept 1–4 MiB) carrying the same 64 MiB from donor tab A to the viewer tab, signalled by the bench (no libp2p)',
          unit: 'MB/s',
          size: SIZE,
          runs: RUNS,
          detail: {
            konbiniPath:
              "viewer tab: openDownload with only: [donor A] (createBrowserKonbini().open's path: dialDirect to a direct libp2p WebRTC connection — DTLS, one data channel per stream with protobuf-framed messages, no Noise or yamux — then the block exchange protocol, every block verified), content read and dropped",
            setup,
          },
        }),
        ...rateFigure('three_peers_vs_one', three, {
          goal: '>= 1.5',
          baseline: 'the same download (128 MiB) by the same viewer tab from donor tab A only',
          unit: 'MB/s',
          size: SIZE3,
          runs: RUNS,
          detail: {
            konbiniPath: 'viewer tab: openDownload with only: [donor A, B, C] (no relay), every block verified',
            setup,
            mibPerDonorPerThreeDonorRun: shares.filter((x) => x.length === 3),
            donorServedMiBTotal: servedMiB,
          },
        }),
      }
    } finally {
      await s.stop()
    }
  },
}

/** three_capped_donors_vs_one: 24 MiB (24 blocks of 1 MiB) from donors each capped at 2 MB/s upload. */
const CAPPED_SIZE = 24 * MiB
const DONOR_CAP_BPS = 2_000_000

/**
 * `three_capped_donors_vs_one`: viewer tab V downloads a 24 MiB public file from donor tabs A, B
 * and C at once, each donor's upload capped at 2 MB/s (its `uploadKBps` cap, in KiB/s as on the Donate
 * page), against the same download from A alone (`only`: no relay). Alternating, 5 runs; the figure
 * is the median of the paired runs' rate ratios, with its worst run. A capped donor delays, never
 * refuses: any refusal by a per-source limit is counted.
 */
export const threeCappedDonors: Bench = {
  names: ['three_capped_donors_vs_one'],
  browser: true,
  async run() {
    const s = await startBrowserSession({ resources: 3 })
    try {
      const root = await s.putPublic('capped-donors.bin', CAPPED_SIZE, 3)
      await s.makePopular(root)
      const donors: Array<Tab & { peerId: string }> = []
      // the Donate page's unit is KiB/s (the donor multiplies by 1024): 1953.125 is 2,000,000 B/s
      const uploadKBps = DONOR_CAP_BPS / 1024
      for (const label of ['donor A', 'donor B', 'donor C']) {
        const tab = await s.openTab(label)
        donors.push({ ...tab, peerId: await tab.page.evaluate((k) => globalThis.bench.donate({ uploadKBps: k }), uploadKBps) })
      }
      const seeded = await timed(() => Promise.all(donors.map((d) => d.page.evaluate((r) => globalThis.bench.waitForCached(r), root))))
      log(`  3 capped donor tabs hold the file (${Math.round(seeded)} ms)`)
      const viewer = await s.openTab('viewer')
      const perDonorMiB: number[][] = []
      const failures: string[] = []
      const from = (only: string[]) => async () => {
        const download = () => viewer.page.evaluate(([x, o]) => globalThis.bench.download(x, o), [root, only] as const)
        // a download that failed (a provider's stream broke) is counted and measured again, once
        for (let attempt = 0; ; attempt++) {
          try {
            const started = performance.now()
            const r = await download()
            const ms = performance.now() - started
            if (r.bytes !== CAPPED_SIZE) throw new Error(`downloaded ${r.bytes} bytes, expected ${CAPPED_SIZE}`)
            if (r.bytesFromNodes > 0) throw new Error(`${r.bytesFromNodes} bytes came from full nodes; only donor tabs were asked`)
            if (only.length > 1) perDonorMiB.push(r.providers.map((p) => round(p.bytes / MiB)))
            return mbps(CAPPED_SIZE, ms)
          } catch (err) {
            if (attempt > 0) throw err
            const line =
              String((err as Error).message)
                .split('\n')[0]
                ?.slice(0, 160) ?? ''
            failures.push(line)
            log(`    download from ${only.length} donor(s) failed, measuring it again: ${line}`)
          }
        }
      }
      const three = from(donors.map((d) => d.peerId))
      const one = from([(donors[0] as Tab & { peerId: string }).peerId])
      const relaysBefore = await readRelayCounters(s.httpUrls)
      log('  warm-up (not counted): every connection carries one transfer first')
      await three()
      await one()
      perDonorMiB.length = 0
      const r = await alternate(RUNS, { konbini: three, baseline: one })
      const tabs = [...donors, viewer]
      const limits = limitHits(relaysBefore, await readRelayCounters(s.httpUrls), [...tabs.flatMap((t) => t.refusals)])
      if (limits.total > 0) log(`  per-source limits refused or held back ${limits.total} request(s): ${JSON.stringify(limits)}`)
      assertNoPageErrors(tabs)
      const samples = r.samples.konbini.map((k, i) => k / (r.samples.baseline[i] as number))
      return runsFigure('three_capped_donors_vs_one', samples, {
        goal: '>= 2.5',
        baseline:
          'the same 24 MiB download by the same viewer tab from donor tab A alone (capped at 2 MB/s too), in the run right after; the ratio is the median of the paired runs',
        unit: 'MB/s from 3 capped donors ÷ MB/s from 1',
        detail: {
          sizeMiB: CAPPED_SIZE / MiB,
          donorUploadCapMBps: DONOR_CAP_BPS / 1e6,
          threeDonorsMBps: round(r.medians.konbini),
          oneDonorMBps: round(r.medians.baseline),
          ratioOfMedians: round(r.medians.konbini / r.medians.baseline),
          machineBusyPctPerRound: r.busyPct,
          limitHits: limits.total,
          limits,
          failedDownloadsRetried: failures.length,
          failures: failures.slice(0, 5),
          threeDonorsSamplesMBps: r.samples.konbini.map(round),
          oneDonorSamplesMBps: r.samples.baseline.map(round),
          mibPerDonorPerThreeDonorRun: perDonorMiB,
          setup:
            'devnet 1 meta + 3 resource nodes (file put public, R=3; donors filled their caches from them), 3 donor tabs (uploadKBps = 2e6 / 1024) + 1 viewer tab in one headless Chromium, bench network namespace; openDownload with only: the donors; timed from the bench process around page.evaluate',
        },
      })
    } finally {
      await s.stop()
    }
  },
}
