import { randomBytes } from 'node:crypto'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { createKonbiniClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import type { Page } from 'playwright-core'
import { privateKeyToAccount } from 'viem/accounts'
import { collectPageErrors, launchChromium } from '../apps/web/e2e/harness/index.ts'
import { requireBrowserBench } from './browser-session.ts'
import { alternate, type Bench, log, MiB, median, round, runsFigure, timed } from './harness.ts'
import { limitHits, readRelayCounters, watchRefusals } from './limits.ts'
import { startBenchNet } from './net.ts'
import { buildPortal, type Portal, startPortal } from './portal.ts'

const SIZE = 20 * MiB
const NAME = 'portal-save.bin'
const RUNS = 5
const RESOURCES = 3
/** Each full node's egress: 1 MiB/s. */
const NODE_EGRESS_BPS = MiB
/** The Donate page's upload rate field is KiB/s: 97,657 KiB/s is just over 100 MB/s. */
const DONOR_UPLOAD_KIBPS = 97_657
const DONOR_DAILY_MIB = 10_240

/** Every answer of status 400 or more a tab got (`status path`): what its page errors are about. */
function watchHttpErrors(page: Page, into: string[]): void {
  page.on('response', (res) => {
    if (res.status() >= 400) into.push(`${res.status()} ${new URL(res.url()).pathname.slice(0, 80)}`)
  })
}

/** Reads a test id's `data-value` (or another attribute) as a number; NaN when absent. */
async function numberAt(page: Page, testId: string, attribute = 'data-value'): Promise<number> {
  const el = page.getByTestId(testId)
  return (await el.count()) > 0 ? Number(await el.first().getAttribute(attribute)) : Number.NaN
}

/**
 * `portal_save_peer_share` and `bytes_sent_vs_file`, through the real portal (a `next build` once
 * per bench run, then `next start` pointed at a bench devnet whose 3 full nodes' egress is capped
 * at 1 MiB/s each): one tab turns donating on on the Donate page (caps form: upload rate raised to
 * 100 MB/s) and waits until it caches the popular public 20 MiB file; then, 5 times, a fresh tab
 * (context of its own) opens the Files page and saves that file with its Save button.
 * The share is the Files page's own figure for the save (`save-status` `data-peer-share`: bytes
 * from donor tabs ÷ all bytes); bytes sent is what every provider sent during the save (the full
 * nodes' `konbini_bytes_served_total`, every path, plus the Donate page's served bytes) ÷ the file
 * size. Requests refused or held back by per-source limits are counted (goal: none).
 */
export const portalSave: Bench = {
  names: ['portal_save_peer_share', 'bytes_sent_vs_file'],
  browser: true,
  async run() {
    requireBrowserBench()
    const build = buildPortal()
    build.catch(() => {}) // awaited below; the devnet starts meanwhile
    const net = await startBenchNet({ resources: RESOURCES, resourceEnv: { KONBINI_EGRESS_BPS: String(NODE_EGRESS_BPS) } })
    const libp2p = await createNodeClientLibp2p()
    let portal: Portal | undefined
    let browser: Awaited<ReturnType<typeof launchChromium>> | undefined
    try {
      const file = net.devnet.file
      // the Files page lists the dev user's files: put the file as that user
      const owner = privateKeyToAccount(file.devKey as `0x${string}`)
      const client = createKonbiniClient({ metaUrls: net.metaUrls, account: owner, libp2p })
      let root = ''
      const putMs = await timed(async () => {
        root = (await client.put([{ path: NAME, content: random(SIZE) }], { name: NAME, size: SIZE, public: true, replicas: RESOURCES })).root
      })
      log(`  ${SIZE / MiB} MiB public file put (R=${RESOURCES}) in ${Math.round(putMs)} ms`)
      await makePopular(net, root)
      const buildMs = await build
      log(`  portal built (next build) in ${Math.round(buildMs / 1000)} s`)
      portal = await startPortal({ metaUrls: net.metaUrls, devnetFile: join(net.dir, 'data', 'devnet.json') })
      browser = await launchChromium()
      const httpUrls = file.nodes.map((n) => n.httpUrl)

      // the donor: the Donate page, caps form, then the switch
      const donorContext = await browser.newContext()
      const donor = await donorContext.newPage()
      const donorErrors = collectPageErrors(donor, 'donor')
      const refusals = watchRefusals(donor)
      const httpErrors: string[] = []
      watchHttpErrors(donor, httpErrors)
      await donor.goto(`${portal.url}/donate`)
      await donor.locator('[data-testid="donate-app"][data-loaded="true"]').waitFor({ timeout: 60_000 })
      await donor.getByTestId('donate-upload-rate').fill(String(DONOR_UPLOAD_KIBPS))
      await donor.getByTestId('donate-daily').fill(String(DONOR_DAILY_MIB))
      const apply = donor.getByTestId('donate-apply')
      if (await apply.isEnabled()) await apply.click()
      await donor.getByTestId('donate-toggle').click()
      await donor.locator('[data-testid="donate-app"][data-status="on"], [data-testid="donate-error"]').first().waitFor({ timeout: 60_000 })
      if ((await donor.getByTestId('donate-error').count()) > 0)
        throw new Error(`the Donate page did not start: ${await donor.getByTestId('donate-error').textContent()}`)
      await donor.locator('[data-testid="donate-state"][data-value="serving"]').waitFor({ timeout: 60_000 })
      const seededMs = await timed(() =>
        donor.waitForFunction((size) => Number(document.querySelector('[data-testid="donate-cached-bytes"]')?.getAttribute('data-value')) >= size, SIZE, {
          timeout: 120_000,
          polling: 200,
        }),
      )
      const donorPeerId = await donor.getByTestId('donate-peer-id').getAttribute('data-value')
      await waitForLightProvider(client, root, owner.address)
      log(`  the Donate tab caches the file and the meta node lists it (${Math.round(seededMs)} ms)`)
      const capsInForce = await numberAt(donor, 'donate-caps-in-force', 'data-upload-kibps')

      const shares: number[] = []
      const sentRatios: number[] = []
      const seconds: number[] = []
      const perRun: Array<Record<string, unknown>> = []
      const viewerErrors: string[] = []
      const relaysBefore = await readRelayCounters(httpUrls)
      const save = async (i: number) => {
        const context = await browser?.newContext({ acceptDownloads: true })
        if (context === undefined) throw new Error('no browser')
        try {
          const page = await context.newPage()
          const errors = collectPageErrors(page, `viewer ${i + 1}`)
          const pageRefusals = watchRefusals(page)
          watchHttpErrors(page, httpErrors)
          await page.goto(`${portal?.url}/files`)
          await page.locator('[data-testid="files-app"]:not([data-state="loading"])').waitFor({ timeout: 60_000 })
          if ((await page.getByTestId('files-app').getAttribute('data-state')) !== 'ready')
            throw new Error(`the Files page's client did not start: ${await page.getByTestId('client-error').textContent()}`)
          await page.locator('[data-testid="streaming-state"][data-state="ready"]').waitFor({ state: 'attached', timeout: 60_000 })
          const row = page.locator(`[data-testid="file-row"][data-root="${root}"]`)
          await row.waitFor({ timeout: 30_000 })
          await net.idle()
          const relays0 = await readRelayCounters(httpUrls)
          const donor0 = await numberAt(donor, 'donate-served')
          const started = performance.now()
          const downloading = page.waitForEvent('download', { timeout: 60_000 })
          await row.getByTestId('save-button').click()
          const download = await downloading
          const status = row.getByTestId('save-status')
          await row.locator('[data-testid="save-status"]:not([data-state="saving"])').waitFor({ timeout: 120_000 })
          const ms = performance.now() - started
          const state = await status.getAttribute('data-state')
          const text = (await status.textContent()) ?? ''
          if (state !== 'saved') throw new Error(`the save ended ${state}: ${text}`)
          const share = Number(await status.getAttribute('data-peer-share'))
          const savedBytes = (await stat(await download.path())).size
          await download.delete()
          if (savedBytes !== SIZE) throw new Error(`saved ${savedBytes} bytes, expected ${SIZE}`)
          // every provider's bytes: the full nodes' once no transfer runs, the donor's once its page shows them
          await net.idle()
          const relays1 = await readRelayCounters(httpUrls)
          const donor1 = await settledDonorServed(donor, donor0 + Math.floor(share * SIZE))
          const fromRelays = relays1.bytesServed - relays0.bytesServed
          const fromDonor = donor1 - donor0
          shares.push(share)
          sentRatios.push((fromRelays + fromDonor) / SIZE)
          seconds.push(ms / 1000)
          perRun.push({ status: text, relaysMiB: round(fromRelays / MiB), donorMiB: round(fromDonor / MiB), seconds: round(ms / 1000) })
          refusals.push(...pageRefusals)
          viewerErrors.push(...errors)
          return share
        } finally {
          await context.close()
        }
      }
      const r = await alternate(RUNS, { save })
      await net.idle()
      const limits = limitHits(relaysBefore, await readRelayCounters(httpUrls), refusals)
      if (limits.total > 0) log(`  per-source limits refused or held back ${limits.total} request(s): ${JSON.stringify(limits)}`)
      const pageErrors = [...donorErrors, ...viewerErrors]
      if (pageErrors.length > 0) log(`  page errors: ${pageErrors.slice(0, 3).join(' | ')}`)
      const common = {
        sizeMiB: SIZE / MiB,
        fullNodes: RESOURCES,
        fullNodeEgressCapMiBps: NODE_EGRESS_BPS / MiB,
        donorUploadCapKiBps: DONOR_UPLOAD_KIBPS,
        ...(Number.isFinite(capsInForce) && { donorUploadCapInForceKiBps: capsInForce }),
        donorPeerId,
        saveSeconds: round(median(seconds)),
        saveMBps: round(SIZE / 1e6 / median(seconds)),
        machineBusyPctPerRound: r.busyPct,
        limitHits: limits.total,
        limits,
        pageErrors: pageErrors.length,
        pageErrorExamples: pageErrors.slice(0, 3).map((e) => e.slice(0, 200)),
        httpErrors: [...new Set(httpErrors)].slice(0, 5),
        perRun,
        saveSecondsSamples: seconds.map(round),
        portalBuildSeconds: Math.round(buildMs / 1000),
        setup: `devnet 1 meta + ${RESOURCES} resource nodes (KONBINI_EGRESS_BPS=${NODE_EGRESS_BPS} each), the file put public by the dev user with R=${RESOURCES} and made popular; the portal (next build into apps/web/.next-test, next start) pointed at it; one headless Chromium: a donor tab on /donate (caps form, then the switch) and, per run, a fresh context on /files clicking Save; bench network namespace`,
      }
      return {
        ...runsFigure('portal_save_peer_share', shares, {
          goal: '>= 0.85',
          worstGoal: '>= 0.7',
          baseline: "all bytes of the save (the Files page's share from peers, save-status data-peer-share); the median of the runs",
          unit: 'share of bytes from donor tabs',
          detail: common,
        }),
        ...runsFigure('bytes_sent_vs_file', sentRatios, {
          goal: '<= 1.15',
          baseline:
            "the file's size; bytes sent = the full nodes' konbini_bytes_served_total (every path) + the donor tab's served bytes (Donate page), read before and after each save",
          unit: 'bytes sent by every provider ÷ file size',
          detail: common,
        }),
      }
    } finally {
      await browser?.close()
      await portal?.stop()
      await libp2p.stop()
      await net.stop()
    }
  },
}

/** Provider requests from a random account: the meta node assigns popular public roots to donors. */
async function makePopular(net: Awaited<ReturnType<typeof startBenchNet>>, root: string, requests = 8): Promise<void> {
  const { client, libp2p } = await net.client()
  try {
    for (let i = 0; i < requests; i++) await client.meta.post('providers', { root, consumer: client.address })
  } finally {
    await libp2p.stop()
  }
}

/** Resolves once the meta node names a light peer among `root`'s providers (a donor's own operator's requests count no popularity). */
async function waitForLightProvider(client: ReturnType<typeof createKonbiniClient>, root: string, consumer: string, timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs
  for (;;) {
    const answer = await client.meta.post('providers', { root, consumer })
    if (answer.providers.some((p) => p.kind === 'light')) return
    if (performance.now() > deadline) throw new Error(`the meta node named no donor tab for ${root} within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 500))
  }
}

/**
 * The Donate page's served bytes once they reach `atLeast` (what the viewer got from peers) and
 * hold still for 300 ms (the page coalesces updates every 100 ms).
 */
async function settledDonorServed(donor: Page, atLeast: number): Promise<number> {
  await donor.waitForFunction((n) => Number(document.querySelector('[data-testid="donate-served"]')?.getAttribute('data-value')) >= n, atLeast, {
    timeout: 30_000,
    polling: 100,
  })
  let last = await numberAt(donor, 'donate-served')
  for (let i = 0; i < 20; i++) {
    await donor.waitForTimeout(300)
    const now = await numberAt(donor, 'donate-served')
    if (now === last) return now
    last = now
  }
  throw new Error(`the donor's served bytes did not settle (still ${last})`)
}

async function* random(size: number): AsyncGenerator<Uint8Array> {
  for (let left = size; left > 0; left -= MiB) yield randomBytes(Math.min(left, MiB))
}
