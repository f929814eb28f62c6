import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { importToSink, MetaClient } from '@konbini/browser-node'
import { startTestNetwork, type TestNetwork } from '@konbini/relay/testing'
import { sha256 } from '@noble/hashes/sha2.js'
import type { Browser, Page } from 'playwright-core'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bundle, collectPageErrors, launchChromium, requireBrowserWebrtc, type StaticServer, startStaticServer } from './harness/index.ts'
import type { tab as TabApi } from './pages/konbini-tab.ts'
import { patternBytes } from './pages/pattern.ts'

declare global {
  var tab: typeof TabApi
}

const MiB = 1024 * 1024
/** Relays' egress cap in this test: low, so peers must carry most of a download. */
const RELAY_EGRESS_BPS = 1 * MiB

const canRun = requireBrowserWebrtc()

/** Polls `check` (every 250 ms, up to 30 s) until it holds. */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (const deadline = Date.now() + 30_000; !(await check()); ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
}

interface Tab {
  page: Page
  errors: string[]
}

describe.skipIf(!canRun)('browser tabs as light peers (Chromium, WebRTC inside the test network namespace)', () => {
  let net: TestNetwork
  let server: StaticServer
  let browser: Browser
  let config: Parameters<typeof TabApi.init>[0]

  async function openTab(label: string): Promise<Tab> {
    const page = await browser.newPage()
    const errors = collectPageErrors(page, label)
    await page.goto(server.url)
    await page.waitForFunction(() => globalThis.tab !== undefined)
    await page.evaluate((c) => globalThis.tab.init(c), config)
    return { page, errors }
  }

  const devAddress = () => privateKeyToAccount(net.file.devKey as `0x${string}`).address

  /** Puts pattern bytes through the Node CLI as a public file; returns its root. */
  async function putPublic(size: number, seed: number, name: string): Promise<string> {
    const path = join(net.dataDir, name)
    await writeFile(path, patternBytes(size, seed))
    const put = await net.cli(['put', path, '--public', '--json'])
    expect(put.code, put.stderr).toBe(0)
    return JSON.parse(put.stdout).root
  }

  /** A donor tab holding `root` in its cache (the meta node assigns popular public roots). */
  async function donorHolding(root: string, caps: Partial<Parameters<typeof TabApi.donate>[0]> = {}, prepare?: (tab: Tab) => Promise<void>): Promise<Tab> {
    // make the root the most popular: provider requests are what the meta node counts
    const meta = new MetaClient({ urls: net.file.metaUrls })
    for (let i = 0; i < 8; i++) await meta.post('providers', { root, consumer: devAddress() })
    const donor = await openTab('donor')
    await prepare?.(donor)
    await donor.page.evaluate((c) => globalThis.tab.donate(c), {
      // room for the one file under test (a donor fills what the meta node assigns, most popular first)
      storageMiB: 32,
      uploadKBps: 0,
      dailyMiB: 0,
      pauseWhenHidden: false,
      respectDataSaver: true,
      ...caps,
    })
    const stats = await donor.page.evaluate((r) => globalThis.tab.waitForCached(r), root)
    expect(stats.cachedBytes).toBeGreaterThan(0)
    // and the meta node lists it for the root (its heartbeat announced the holding)
    await until(
      async () => (await meta.post('providers', { root, consumer: devAddress() })).providers.some((p) => p.peerId === stats.peerId),
      'the donor is listed',
    )
    return donor
  }

  beforeAll(async () => {
    const page = bundle(fileURLToPath(new URL('./pages/konbini-tab.ts', import.meta.url)))
    net = await startTestNetwork({
      resources: 3,
      resourceEnv: { KONBINI_EGRESS_BPS: String(RELAY_EGRESS_BPS) },
      // popularity fades in seconds, so each test's freshly requested file is the most popular one
      metaEnv: { KONBINI_POPULARITY_HALF_LIFE_SECONDS: '5' },
    })
    const relays = net.file.nodes.flatMap((node) =>
      node.multiaddrs.filter((a) => a.includes('/ws')).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${node.peerId}`)),
    )
    config = {
      metaUrls: net.file.metaUrls,
      relays,
      trustedMetas: net.file.metaAddresses ?? [],
      chainId: net.file.chainId,
      accountKey: net.file.devKey as `0x${string}`,
    }
    server = await startStaticServer({ script: (await page).code })
    browser = await launchChromium()
  })

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await net?.stop()
  })

  test('default: with the relays capped, tab B takes most of a file from donor tab A over a direct WebRTC connection', async () => {
    const size = 48 * MiB
    const root = await putPublic(size, 1, 'cdn-a.bin')
    const donor = await donorHolding(root, { storageMiB: 64 })
    const donorId = (await donor.page.evaluate(() => globalThis.tab.donorStats()))?.peerId
    const viewer = await openTab('viewer')
    // a first read warms the viewer's connection to the donor: a cold WebRTC connection takes a
    // second (several on one core) while the relays carry the first blocks, as they should
    const warm = await viewer.page.evaluate((r) => globalThis.tab.download(r), root)
    expect(warm.bytes).toBe(size)

    const result = await viewer.page.evaluate((r) => globalThis.tab.download(r), root)
    expect(result.bytes).toBe(size)
    expect(result.sha256).toBe(Buffer.from(sha256(patternBytes(size, 1))).toString('hex'))
    console.info(
      `tab B: ${(result.bytesFromPeers / MiB).toFixed(1)} MiB from peers, ${(result.bytesFromNodes / MiB).toFixed(1)} MiB from full nodes in ${result.ms} ms`,
      result.providers.map((p) => ({ ...p, peerId: p.peerId.slice(-6) })),
    )
    // three relays at 1 MiB/s each against one donor tab, over a warm connection (cold, on one
    // core, the relays carried more than half of it: a 4 s WebRTC warm-up in a 13 s download)
    expect(result.bytesFromPeers / (result.bytesFromPeers + result.bytesFromNodes)).toBeGreaterThan(0.5)
    // the bytes came over a direct connection to the donor: WebRTC, no relay limits
    const toDonor = result.connections.filter((c) => c.peer === donorId)
    expect(toDonor.some((c) => c.direct && c.multiplexer === '/webrtc' && !c.limited)).toBe(true)
    const donorStats = await donor.page.evaluate(() => globalThis.tab.donorStats())
    expect(donorStats?.servedBytes).toBeGreaterThanOrEqual(result.bytesFromPeers)

    const stopped = await donor.page.evaluate(() => globalThis.tab.stopDonating())
    expect(stopped).toMatchObject({ state: 'stopped', peers: 0, addresses: [] })
    expect([...donor.errors, ...viewer.errors]).toEqual([])
    await donor.page.close()
    await viewer.page.close()
  })

  test('behavior: closing the donor tab mid-download, the download completes from full nodes, every block verified', async () => {
    const size = 32 * MiB
    const root = await putPublic(size, 2, 'cdn-b.bin')
    const donor = await donorHolding(root, { storageMiB: 48 })
    const viewer = await openTab('viewer')
    await viewer.page.evaluate((r) => globalThis.tab.startDownload(r), root)
    // closed once it has sent its first blocks (on one core a cold WebRTC connection can take
    // seconds, while the relays carry the download)
    await viewer.page.waitForFunction(() => globalThis.tab.downloadProgress().bytesFromPeers >= 2 * 1024 * 1024, undefined, { timeout: 60_000, polling: 20 })
    await donor.page.close()
    const atClose = await viewer.page.evaluate(() => globalThis.tab.downloadProgress())
    const result = await viewer.page.evaluate(() => globalThis.tab.finishDownload())
    expect(result.bytes).toBe(size)
    expect(result.sha256).toBe(Buffer.from(sha256(patternBytes(size, 2))).toString('hex'))
    // it was mid-download: the full nodes carried what was left
    expect(atClose.bytes).toBeLessThan(size)
    expect(result.bytesFromPeers).toBeGreaterThanOrEqual(2 * MiB)
    expect(result.bytesFromNodes).toBeGreaterThan(0)
    expect(viewer.errors).toEqual([])
    await viewer.page.close()
  })

  test('behavior: one of three donor tabs stalls mid-download (its channel open, nothing sent): the others carry its share, every block verified', async () => {
    const size = 16 * MiB
    const root = await putPublic(size, 8, 'cdn-stall.bin')
    // capped donors (2 MiB/s each) keep the download long enough to stall one of them early
    const donors = await Promise.all([0, 1, 2].map(() => donorHolding(root, { uploadKBps: 2048 })))
    const ids = await Promise.all(donors.map(async (d) => (await d.page.evaluate(() => globalThis.tab.donorStats()))?.peerId as string))
    const viewer = await openTab('viewer')
    // from the donors alone: the stalled one's share can only move to the two others
    await viewer.page.evaluate(([r, only]) => globalThis.tab.startDownload(r, only), [root, ids] as const)
    // the first donor to have sent a block is the one that stalls
    const handle = await viewer.page.waitForFunction(
      (donorIds) => {
        const { byProvider } = globalThis.tab.downloadProgress()
        return donorIds.find((id) => (byProvider[id] ?? 0) >= 1024 * 1024)
      },
      ids,
      { timeout: 60_000, polling: 20 },
    )
    const victimId = (await handle.jsonValue()) as string
    const victim = donors[ids.indexOf(victimId)] as Tab
    // its page stops running: no block, no error, no close — the WebRTC channel stays open
    const cdp = await victim.page.context().newCDPSession(victim.page)
    await cdp.send('Debugger.enable')
    await cdp.send('Debugger.pause')
    const atStall = await viewer.page.evaluate(() => globalThis.tab.downloadProgress())
    const result = await viewer.page.evaluate(() => globalThis.tab.finishDownload())
    await cdp.send('Debugger.resume')
    expect(result.bytes).toBe(size)
    expect(result.sha256).toBe(Buffer.from(sha256(patternBytes(size, 8))).toString('hex'))
    const bytesOf = (id: string) => result.providers.find((p) => p.peerId === id)?.bytes ?? 0
    console.info(
      `stalled donor ${victimId.slice(-6)}: ${(bytesOf(victimId) / MiB).toFixed(1)} MiB (${((atStall.byProvider[victimId] ?? 0) / MiB).toFixed(1)} at the stall), ${result.ms} ms in all`,
      result.providers.map((p) => ({ ...p, peerId: p.peerId.slice(-6) })),
    )
    // after the stall it sent at most what was already on the wire
    expect(bytesOf(victimId) - (atStall.byProvider[victimId] ?? 0)).toBeLessThanOrEqual(2 * MiB)
    // what was left when it stalled came from the two other donors
    const others = ids.filter((id) => id !== victimId)
    const gained = others.reduce((n, id) => n + bytesOf(id) - (atStall.byProvider[id] ?? 0), 0)
    const left = size - Object.values(atStall.byProvider).reduce((n, b) => n + b, 0)
    expect(left).toBeGreaterThan(size / 2)
    expect(gained).toBeGreaterThanOrEqual(left - 2 * MiB)
    // the two others were never given up (the stalled one may be, once its connection times out on a slow machine)
    expect(result.providers.filter((p) => others.includes(p.peerId)).every((p) => !p.dead)).toBe(true)
    expect(viewer.errors).toEqual([])
    for (const d of donors.filter((d) => d !== victim)) {
      await d.page.evaluate(() => globalThis.tab.stopDonating())
      await d.page.close()
    }
    await victim.page.close()
    await viewer.page.close()
    // three donors fill their caches from relays capped at 1 MiB/s first
  }, 300_000)

  test('behavior: a 64 MiB upload from a page reaches 3 holders with the Node client CID, progress to 100 %', async () => {
    const size = 64 * MiB
    const uploader = await openTab('uploader')
    const result = await uploader.page.evaluate(([n, name]) => globalThis.tab.upload(n, 3, name), [size, 'page-upload.bin'] as const)
    const nodeRoot = await importToSink([{ path: 'page-upload.bin', content: [patternBytes(size, 3)] }], () => {})
    expect(result.root).toBe(nodeRoot.cid.toString())
    expect(new Set(result.holders).size).toBe(3)
    expect(result.last).toMatchObject({ phase: 'done', sentBytes: size, totalBytes: size, holders: 3 })
    expect(uploader.errors).toEqual([])
    await uploader.page.close()
  })

  test('behavior: a denylisted root leaves the donor cache and nobody serves it', async () => {
    const size = 8 * MiB
    const root = await putPublic(size, 6, 'cdn-deny.bin')
    const donor = await donorHolding(root)
    const deny = await net.cli(['deny', root])
    expect(deny.code, deny.stderr).toBe(0)
    // the donor learns the denylist from its next heartbeat answer and drops the root
    await donor.page.waitForFunction((r) => globalThis.tab.donorHolds(r) === false, root, { timeout: 30_000, polling: 200 })
    // and nobody serves it any more, full nodes included: the viewer gets the named refusal
    const viewer = await openTab('viewer')
    const refused = await viewer.page.evaluate(
      (r) =>
        globalThis.tab.download(r).then(
          () => 'served',
          (err: Error) => err.name,
        ),
      root,
    )
    expect(refused).toBe('ContentDeniedError')
    await donor.page.evaluate(() => globalThis.tab.stopDonating())
    await donor.page.close()
    await viewer.page.close()
  })

  test('behavior: a donor pauses on battery, with data-saver, and in a hidden tab when asked; the meta node stops listing it meanwhile', async () => {
    const root = await putPublic(4 * MiB, 7, 'cdn-pause.bin')
    const caps = { storageMiB: 32, uploadKBps: 0, dailyMiB: 0, pauseWhenHidden: true, respectDataSaver: true }
    const donor = await donorHolding(root, caps, (tab) => tab.page.evaluate(() => globalThis.tab.stubEnvironment()))
    const donorId = (await donor.page.evaluate(() => globalThis.tab.donorStats()))?.peerId
    const meta = new MetaClient({ urls: net.file.metaUrls })
    const listed = async () =>
      (await meta.post('providers', { root, consumer: devAddress() })).providers.some((p) => p.peerId === donorId && p.kind === 'light')
    await until(listed, 'the donor is listed as a provider')
    const serving = { charging: true, saveData: false, hidden: false }
    for (const [change, reason] of [
      [{ hidden: true }, 'the tab is hidden'],
      [{ charging: false }, 'on battery'],
      [{ saveData: true }, 'data-saver is on'],
    ] as const) {
      const paused = await donor.page.evaluate((c) => globalThis.tab.setEnvironment(c), change)
      expect(paused).toMatchObject({ state: 'paused', pauseReason: reason })
      await until(async () => !(await listed()), `a donor paused (${reason}) leaves the providers list`)
      expect((await donor.page.evaluate((c) => globalThis.tab.setEnvironment(c), serving))?.state).toBe('serving')
      await until(listed, 'the donor is listed again once it serves')
    }
    // hidden, but the user did not ask to pause when hidden: it keeps serving (a donor tab lives in the background)
    await donor.page.evaluate((c) => globalThis.tab.setCaps(c), { ...caps, pauseWhenHidden: false })
    expect(await donor.page.evaluate(() => globalThis.tab.setEnvironment({ hidden: true }))).toMatchObject({ state: 'serving' })
    await donor.page.evaluate(() => globalThis.tab.stopDonating())
    await donor.page.close()
  })

  test('behavior: a donor with a 10 MB daily cap serves no more than 10 MB', async () => {
    const size = 24 * MiB
    const cap = 10_000_000
    const root = await putPublic(size, 4, 'cdn-cap.bin')
    const donor = await donorHolding(root, { dailyMiB: cap / MiB })
    const viewer = await openTab('viewer')
    const result = await viewer.page.evaluate((r) => globalThis.tab.download(r), root)
    expect(result.sha256).toBe(Buffer.from(sha256(patternBytes(size, 4))).toString('hex'))
    const stats = await donor.page.evaluate(() => globalThis.tab.donorStats())
    console.info(`capped donor served ${stats?.servedBytes} bytes (cap ${cap}); viewer took ${result.bytesFromPeers} from peers`)
    expect(stats?.servedBytes).toBeLessThanOrEqual(cap)
    // it did serve up to its cap (the viewer wanted more from it), then refused
    expect(stats?.servedBytes).toBeGreaterThan(cap / 2)
    expect(stats?.servedBytes24h).toBeLessThanOrEqual(cap)
    expect(result.bytesFromPeers).toBeGreaterThan(0)
    await donor.page.evaluate(() => globalThis.tab.stopDonating())
    await donor.page.close()
    await viewer.page.close()
  })

  test('behavior: a donor rate cap holds within 10 %', async () => {
    const size = 24 * MiB
    const capKBps = 1024
    const root = await putPublic(size, 5, 'cdn-rate.bin')
    const donor = await donorHolding(root, { uploadKBps: capKBps })
    const viewer = await openTab('viewer')
    await viewer.page.evaluate((r) => globalThis.tab.startDownload(r), root)
    await donor.page.evaluate(() => globalThis.tab.waitForDonor('servedBytes', 1))
    // served bytes over a window of several seconds while the viewer keeps asking
    const first = await donor.page.evaluate(() => ({ at: performance.now(), bytes: globalThis.tab.donorStats()?.servedBytes ?? 0 }))
    await donor.page.waitForTimeout(4000)
    const second = await donor.page.evaluate(() => ({ at: performance.now(), bytes: globalThis.tab.donorStats()?.servedBytes ?? 0 }))
    const rate = (second.bytes - first.bytes) / ((second.at - first.at) / 1000)
    console.info(`donor rate ${(rate / 1024).toFixed(0)} KiB/s with a cap of ${capKBps} KiB/s`)
    expect(rate).toBeLessThanOrEqual(capKBps * 1024 * 1.1)
    expect(rate).toBeGreaterThan(0)
    const result = await viewer.page.evaluate(() => globalThis.tab.finishDownload())
    expect(result.bytes).toBe(size)
    await donor.page.evaluate(() => globalThis.tab.stopDonating())
    await donor.page.close()
    await viewer.page.close()
  })
})
