import { assertNoPageErrors, startBrowserSession } from './browser-session.ts'
import { alternate, type Bench, log, MiB, mbps, throughputFigure } from './harness.ts'

const SIZE = 64 * MiB
const RUNS = 5

/**
 * `relay_to_tab_vs_fetch`: a tab downloads a 64 MiB file with the Konbini browser client from the
 * full nodes holding it (HTTP block exchange, every block verified) against a plain `fetch` of
 * the same file from one of those nodes' gateway (`/ipfs/{cid}`, deserialized), in the same tab.
 */
export const relayToTabVsFetch: Bench = {
  names: ['relay_to_tab_vs_fetch'],
  browser: true,
  async run() {
    const s = await startBrowserSession({ resources: 3 })
    try {
      const root = await s.putPublic('relay-to-tab.bin', SIZE, 3)
      const tab = await s.openTab('viewer')
      const url = `${s.httpUrls[0]}/ipfs/${root}`
      const perProvider: number[][] = []
      const konbini = async () => {
        const r = await tab.page.evaluate((x) => globalThis.bench.download(x), root)
        if (r.bytes !== SIZE) throw new Error(`downloaded ${r.bytes} bytes, expected ${SIZE}`)
        perProvider.push(r.providers.map((p) => Math.round(p.bytes / MiB)))
        return mbps(SIZE, r.ms)
      }
      const http = async () => {
        const r = await tab.page.evaluate((u) => globalThis.bench.fetch(u), url)
        if (r.bytes !== SIZE) throw new Error(`fetched ${r.bytes} bytes, expected ${SIZE}`)
        return mbps(SIZE, r.ms)
      }
      log('  warm-up (not counted)')
      await konbini()
      await http()
      perProvider.length = 0
      const r = await alternate(RUNS, { konbini, http }, { before: () => s.net.idle() })
      assertNoPageErrors([tab])
      return {
        relay_to_tab_vs_fetch: throughputFigure(r, {
          goal: '>= 0.5',
          baseline: "a plain fetch in the same tab of the same 64 MiB file from one holder's gateway (/ipfs/{cid}, deserialized), body read and dropped",
          size: SIZE,
          runs: RUNS,
          detail: {
            konbiniPath:
              'bench page: openDownload as createBrowserKonbini().open (meta providers, HTTP block exchange with the full nodes, every block verified), content read and dropped; timed in the page from open to last byte',
            devnet: '1 meta + 3 resource nodes, file put public with R=3, Chromium (headless) in the bench network namespace',
            mibPerProvider: perProvider,
          },
        }),
      }
    } finally {
      await s.stop()
    }
  },
}
