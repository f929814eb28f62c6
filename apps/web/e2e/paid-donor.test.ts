import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { createKonbiniClient, MetaClient } from '@konbini/browser-node'
import { createNodeClientLibp2p } from '@konbini/browser-node/node'
import { settlementAbi } from '@konbini/contracts'
import { type EpochArchive, epochArchive } from '@konbini/protocol'
import { startTestNetwork, type TestNetwork } from '@konbini/relay/testing'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import type { Browser, Page } from 'playwright-core'
import { type Address, createPublicClient, type Hex, http } from 'viem'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import { bundle, collectPageErrors, launchChromium, requireBrowserWebrtc, type StaticServer, startStaticServer } from './harness/index.ts'
import type { tab as TabApi } from './pages/konbini-tab.ts'
import { patternBytes } from './pages/pattern.ts'

declare global {
  var tab: typeof TabApi
}

const MiB = 1024 * 1024
const canRun = requireBrowserWebrtc()

/**
 * Issue 9, acceptance 6 (the tab half): a donor tab that served a paid download and was closed
 * right after still gets its traffic in the epoch's report — the viewer hands in its own copies
 * of the receipts when its download finishes.
 */
describe.skipIf(!canRun)('a donor tab paid for what it served (Chromium, WebRTC, a chain devnet)', () => {
  let net: TestNetwork
  let server: StaticServer
  let browser: Browser
  let libp2p: Libp2p
  let config: Parameters<typeof TabApi.init>[0]

  async function openTab(label: string): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage()
    const errors = collectPageErrors(page, label)
    await page.goto(server.url)
    await page.waitForFunction(() => globalThis.tab !== undefined)
    await page.evaluate((c) => globalThis.tab.init(c), config)
    return { page, errors }
  }
  const dev = () => privateKeyToAccount(net.file.devKey as Hex)
  const chain = () => {
    if (net.file.chain === undefined) throw new Error('no chain')
    return net.file.chain
  }
  const pub = () => createPublicClient({ transport: http(chain().rpcUrl) })
  const epochNow = async () => ((await (await fetch(new URL('/v1/epoch', net.file.metaUrls[0]))).json()) as { epoch: number }).epoch

  beforeAll(async () => {
    const page = bundle(fileURLToPath(new URL('./pages/konbini-tab.ts', import.meta.url)))
    net = await startTestNetwork({
      resources: 2,
      chain: true,
      resourceEnv: { KONBINI_EGRESS_BPS: String(1 * MiB), KONBINI_RECEIPT_FORWARD_MS: '500' },
      metaEnv: { KONBINI_POPULARITY_HALF_LIFE_SECONDS: '5', KONBINI_EPOCH_SECONDS: '8', KONBINI_EPOCH_GRACE_SECONDS: '4', KONBINI_TICKET_SECONDS: '10' },
    })
    const relays = net.file.nodes.flatMap((node) =>
      node.multiaddrs.filter((a) => a.includes('/ws')).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${node.peerId}`)),
    )
    config = { metaUrls: net.file.metaUrls, relays, trustedMetas: net.file.metaAddresses ?? [], chainId: net.file.chainId, accountKey: net.file.devKey as Hex }
    server = await startStaticServer({ script: (await page).code })
    browser = await launchChromium()
    libp2p = await createNodeClientLibp2p()
  })
  afterAll(async () => {
    await libp2p?.stop()
    await browser?.close()
    await server?.close()
    await net?.stop()
  })

  test('behavior: a donor tab closed right after it served a paid download still has its bytes in the epoch report', async () => {
    const size = 6 * MiB
    const path = join(net.dataDir, 'paid-donor.bin')
    await writeFile(path, patternBytes(size, 9))
    const put = await net.cli(['put', path, '--public', '--replicas', '2', '--json'])
    expect(put.code, put.stderr).toBe(0)
    const root = JSON.parse(put.stdout).root as string
    // the most requested root: the donor is assigned to cache it (a donor's cache fill is unpaid)
    const meta = new MetaClient({ urls: net.file.metaUrls })
    for (let i = 0; i < 8; i++) await meta.post('providers', { root, consumer: dev().address })
    const donor = await openTab('donor')
    await donor.page.evaluate((c) => globalThis.tab.donate(c), {
      storageMiB: 32,
      uploadKBps: 0,
      dailyMiB: 0,
      pauseWhenHidden: false,
      respectDataSaver: true,
    })
    const stats = await donor.page.evaluate((r) => globalThis.tab.waitForCached(r), root)
    await vi.waitFor(
      async () => expect((await meta.post('providers', { root, consumer: dev().address })).providers.map((p) => p.peerId)).toContain(stats.peerId),
      {
        timeout: 30_000,
        interval: 250,
      },
    )

    // the viewer (the dev account, which has credit) takes the file from the donor alone
    const viewer = await openTab('viewer')
    const firstEpoch = await epochNow()
    await viewer.page.evaluate(([r, only]) => globalThis.tab.startDownload(r, only), [root, [stats.peerId]] as [string, string[]])
    const result = await viewer.page.evaluate(() => globalThis.tab.finishDownload())
    expect(result.bytes).toBe(size)
    await donor.page.close()
    const lastEpoch = await epochNow()

    // the epochs of the download settle; their archives hold the donor's receipts
    const settlement = { address: chain().contracts.settlement as Address, abi: settlementAbi } as const
    await vi.waitFor(async () => expect(Number(await pub().readContract({ ...settlement, functionName: 'lastEpoch' }))).toBeGreaterThanOrEqual(lastEpoch), {
      timeout: 90_000,
      interval: 500,
    })
    const logs = await pub().getContractEvents({ ...settlement, eventName: 'ReportSubmitted', fromBlock: 0n })
    let served = 0
    for (const log of logs.filter((l) => Number(l.args.epoch) >= firstEpoch && Number(l.args.epoch) <= lastEpoch)) {
      const archive = await readArchive(CID.decode(Buffer.from((log.args.archiveCid as Hex).slice(2), 'hex')).toString())
      for (const { receipt } of archive.receipts)
        if (receipt.provider === stats.peerId) {
          expect(receipt.consumer.toLowerCase()).toBe(dev().address.toLowerCase())
          served += receipt.bytes
        }
      // and the donor's operator is named as the one who earns for it
      if (archive.receipts.some((r) => r.receipt.provider === stats.peerId)) expect(archive.operators.map((o) => o.peerId)).toContain(stats.peerId)
    }
    expect(served).toBeGreaterThanOrEqual(result.bytesFromPeers)
    expect(served).toBeGreaterThan(0)
    expect(viewer.errors).toEqual([])
  }, 240_000)

  async function readArchive(cid: string): Promise<EpochArchive> {
    const d = await createKonbiniClient({ metaUrls: net.file.metaUrls, account: dev(), libp2p }).open(cid)
    const entry = d.entry
    if (entry.type !== 'file' && entry.type !== 'raw') throw new Error('the archive is not a file')
    const chunks: Uint8Array[] = []
    for await (const chunk of entry.content()) chunks.push(chunk)
    await d.finish()
    return epochArchive.parse(JSON.parse(Buffer.concat(chunks).toString('utf8')))
  }
})
