import { assertNoPageErrors, rateFigure, startBrowserSession } from './browser-session.ts'
import { alternate, type Bench, log, MiB, mbps } from './harness.ts'

const SIZE = 128 * MiB
const RUNS = 5

/**
 * `browser_import_vs_digest`: the unixfs-v1-2025 import (`importToSink`, WebCrypto SHA-256 per
 * block) of 128 MiB held in a tab, fed in 1 MiB pieces, blocks dropped, against one
 * `crypto.subtle.digest('SHA-256')` over the same bytes in the same tab.
 */
export const browserImportVsDigest: Bench = {
  names: ['browser_import_vs_digest'],
  browser: true,
  async run() {
    const s = await startBrowserSession({ resources: 1 })
    try {
      const tab = await s.openTab('importer')
      await tab.page.evaluate((n) => globalThis.bench.hold(n, 11), SIZE)
      let blocks = 0
      const konbini = async () => {
        const r = await tab.page.evaluate(() => globalThis.bench.import())
        blocks = r.blocks
        return mbps(SIZE, r.ms)
      }
      const baseline = async () => mbps(SIZE, await tab.page.evaluate(() => globalThis.bench.digest()))
      log('  warm-up (not counted)')
      await konbini()
      await baseline()
      const r = await alternate(RUNS, { konbini, baseline })
      assertNoPageErrors([tab])
      return rateFigure('browser_import_vs_digest', r, {
        goal: '>= 0.5',
        baseline: "one crypto.subtle.digest('SHA-256') over the same 128 MiB in the same tab",
        unit: 'MB/s',
        size: SIZE,
        runs: RUNS,
        detail: {
          konbiniPath:
            'importToSink (unixfs-v1-2025: 1 MiB raw leaves, CIDv1) of bytes held in the page, fed in 1 MiB pieces, blocks dropped; timed in the page',
          blocks,
        },
      })
    } finally {
      await s.stop()
    }
  },
}
