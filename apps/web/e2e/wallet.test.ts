import type { ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { MetaClient } from '@konbini/browser-node'
import { konbiniTokenAbi, settlementAbi } from '@konbini/contracts'
import { type EpochResponse, type NodeInfo, type RewardsResponse, receiptsRequest, type SignedReceipt } from '@konbini/protocol'
import { startTestNetwork, type TestNetwork } from '@konbini/relay/testing'
import { sha256 } from '@noble/hashes/sha2.js'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { type Address, createPublicClient, createTestClient, http, parseEther } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test, vi } from 'vitest'
import {
  bundle,
  collectPageErrors,
  type InjectedWallet,
  injectWallet,
  launchChromium,
  requireBrowserWebrtc,
  type StaticServer,
  startStaticServer,
} from './harness/index.ts'
import type { tab as TabApi } from './pages/konbini-tab.ts'
import { patternBytes } from './pages/pattern.ts'
import { ANVIL_DEV_ACCOUNT } from '../src/lib/wallet/wallet-config.ts'

declare global {
  var tab: typeof TabApi
}

const MiB = 1024 * 1024
const GIB = 2n ** 30n
/** Long enough that one tab's download, its receipts and the page's refresh fit in one open epoch. */
const EPOCH_SECONDS = 30
const canRun = requireBrowserWebrtc()

/** Resolves once `url` answers 200 (`next dev` compiled the route); rejects if Next exits first. */
async function waitForPage(url: string, web: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let last = 'no answer'
  while (Date.now() < deadline) {
    if (web && (web.exitCode !== null || web.signalCode !== null)) throw new Error(`next dev exited (${web.exitCode ?? web.signalCode})`)
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(120_000) })
      await res.arrayBuffer()
      if (res.ok) return
      last = `HTTP ${res.status}`
    } catch (err) {
      last = (err as Error).message
    }
    await new Promise((resolve) => setTimeout(resolve, 250))
  }
  throw new Error(`${url} did not answer in ${timeoutMs} ms (${last})`)
}

/** The fee share of `bytes` served (docs/PROTOCOL.md): floor(b × P × 80 / (100 × 2^30)), P = 1 KBT per GiB. */
const feeShare = (bytes: bigint) => (bytes * 10n ** 18n * 80n) / (100n * GIB)
/** The emission cap of `bytes` served: floor(b × P × 10 / (100 × 2^30)). */
const emissionCap = (bytes: bigint) => (bytes * 10n ** 18n * 10n) / (100n * GIB)

/**
 * Collects the signed receipts a page hands to a meta node (`POST /v1/receipts`, a public route):
 * the donor tab forwards what its consumers signed, and the consumer tab hands in its own.
 */
function captureReceipts(page: Page, into: SignedReceipt[]): void {
  page.on('request', (req) => {
    if (req.method() === 'POST' && new URL(req.url()).pathname === '/v1/receipts') into.push(...receiptsRequest.parse(req.postDataJSON()).receipts)
  })
}

/**
 * Issue 9, acceptance 2 (the portal): a wallet injected through EIP-6963 on an account that is
 * not the payer authorizes a donor tab on the Donate page (one signature); the tab serves another
 * tab; the page's pending amount equals this test's own sum over the receipts the donor handed to
 * the meta node; after settlement the Rewards page's Claim pays exactly that to the wallet.
 */
describe.skipIf(!canRun)('the wallet in the portal (Chromium, a devnet with its chain)', () => {
  let net: TestNetwork
  let chain: NonNullable<TestNetwork['file']['chain']>
  let browser: Browser
  let context: BrowserContext
  let server: StaticServer
  let portal: string
  let injected: InjectedWallet
  const account = privateKeyToAccount(generatePrivateKey())
  const devnetLog: string[] = []
  const pub = () => createPublicClient({ transport: http(chain.rpcUrl) })
  const balanceOf = (address: Address) =>
    pub().readContract({ address: chain.contracts.token as Address, abi: konbiniTokenAbi, functionName: 'balanceOf', args: [address] })
  const settlement = () => ({ address: chain.contracts.settlement as Address, abi: settlementAbi }) as const
  const meta = async <T>(path: string): Promise<T> => {
    const res = await fetch(new URL(path, net.file.metaUrls[0]))
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${await res.text()}`)
    return (await res.json()) as T
  }

  async function openPortal(path: string, label: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage()
    const errors = collectPageErrors(page, label)
    await page.goto(`${portal}${path}`)
    return { page, errors }
  }

  /** Connects the injected wallet on a page showing the connect card (a reload reconnects on its own). */
  async function connected(page: Page): Promise<void> {
    const status = page.getByTestId('wallet').first()
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 60_000 }).toMatch(/connected|disconnected/)
    if ((await status.getAttribute('data-status')) === 'disconnected') {
      await page.locator(`[data-testid="wallet-connector"][data-name="${injected.name}"]`).first().click()
    }
    await expect.poll(() => page.getByTestId('wallet-address').first().getAttribute('data-value'), { timeout: 30_000 }).toBe(account.address)
  }

  beforeAll(async () => {
    const started = performance.now()
    const tabPage = bundle(fileURLToPath(new URL('./pages/konbini-tab.ts', import.meta.url)))
    net = await startTestNetwork({
      resources: 3,
      web: true,
      chain: true,
      metaEnv: { KONBINI_EPOCH_SECONDS: String(EPOCH_SECONDS), KONBINI_EPOCH_GRACE_SECONDS: '3', KONBINI_TICKET_SECONDS: '10' },
      resourceEnv: { KONBINI_RECEIPT_FORWARD_MS: '300' },
      log: (line) => devnetLog.push(line),
    })
    if (net.file.webUrl === undefined || net.file.chain === undefined) throw new Error('the devnet started no portal or no chain')
    chain = net.file.chain
    portal = `http://127.0.0.1:${new URL(net.file.webUrl).port}`
    // the wallet's account: not the payer (the dev account pays for downloads), gas only
    await createTestClient({ mode: 'anvil', transport: http(chain.rpcUrl) }).setBalance({ address: account.address, value: parseEther('10') })
    try {
      await waitForPage(`${portal}/rewards`, net.devnet.web, 300_000)
      await waitForPage(`${portal}/donate`, net.devnet.web, 300_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${devnetLog.slice(-30).join('\n')}`)
    }
    server = await startStaticServer({ script: (await tabPage).code })
    browser = await launchChromium()
    context = await browser.newContext()
    injected = await injectWallet(context, { account, rpcUrl: chain.rpcUrl, chainId: chain.chainId })
    // each page's client chunks compiled once
    for (const path of ['/rewards', '/donate']) {
      const warm = await openPortal(path, `warm ${path}`)
      await warm.page.getByTestId('wallet').first().waitFor({ timeout: 180_000 })
      await warm.page.close()
    }
    console.info(`wallet e2e warm-up: ${((performance.now() - started) / 1000).toFixed(1)} s`)
  }, 600_000)

  afterAll(async () => {
    await browser?.close()
    await server?.close()
    await net?.stop()
  }, 60_000)

  test('behavior: the Rewards page connects an injected EIP-6963 wallet; with nothing earned, nothing is claimable and Claim is disabled', async () => {
    const { page, errors } = await openPortal('/rewards', 'rewards')
    const button = page.locator(`[data-testid="wallet-connector"][data-name="${injected.name}"]`)
    await expect.poll(() => button.count(), { timeout: 30_000 }).toBe(1)
    // the devnet's own option is offered too, labelled as such
    expect(await page.getByTestId('wallet-dev-account').textContent()).toBe("Use the devnet's dev account")
    await button.click()
    await expect.poll(() => page.getByTestId('wallet-address').getAttribute('data-value'), { timeout: 30_000 }).toBe(account.address)
    await expect.poll(() => page.getByTestId('rewards-view').getAttribute('data-account'), { timeout: 30_000 }).toBe(account.address)
    for (const id of ['rewards-pending', 'rewards-claimable', 'rewards-claimed']) expect(await page.getByTestId(id).getAttribute('data-value'), id).toBe('0')
    expect(await page.getByTestId('rewards-balance').getAttribute('data-value')).toBe('0')
    expect(await page.getByTestId('claim-button').isDisabled()).toBe(true)
    expect(await page.getByTestId('claim-gas').count()).toBe(0)
    // the formula names the chain's emission per epoch
    expect(await page.getByTestId('reward-emission').getAttribute('data-value')).toBe(
      String(await pub().readContract({ ...settlement(), functionName: 'emissionPerEpoch' })),
    )
    // connecting asked for nothing to be signed
    expect(injected.requests).toEqual([])
    expect(errors).toEqual([])
    await page.close()
  }, 120_000)

  test('default: the wallet authorizes a donor tab once; it serves another tab; pending equals the receipts; the Rewards page claims it', async () => {
    // a popular public file: the meta node asks donor tabs to cache it
    const size = 8 * MiB
    const path = join(net.dataDir, 'wallet-public.bin')
    await writeFile(path, patternBytes(size, 21))
    const put = await net.cli(['put', path, '--public', '--json'])
    expect(put.code, put.stderr).toBe(0)
    const root = JSON.parse(put.stdout).root as string
    const dev = privateKeyToAccount(net.file.devKey as `0x${string}`)
    const metaClient = new MetaClient({ urls: net.file.metaUrls })
    for (let i = 0; i < 8; i++) await metaClient.post('providers', { root, consumer: dev.address })

    // the donor tab: the Donate page, donating
    const { page: donate, errors } = await openPortal('/donate', 'donate')
    const forwarded: SignedReceipt[] = []
    captureReceipts(donate, forwarded)
    const app = donate.getByTestId('donate-app')
    await expect.poll(() => app.getAttribute('data-loaded'), { timeout: 60_000 }).toBe('true')
    await donate.getByTestId('donate-toggle').click()
    await expect.poll(() => donate.getByTestId('donate-state').getAttribute('data-value'), { timeout: 60_000 }).toBe('serving')
    const peerId = (await donate.getByTestId('donate-peer-id').getAttribute('data-value')) as string
    await expect
      .poll(async () => Number(await donate.getByTestId('donate-cached-roots').getAttribute('data-value')), { timeout: 90_000 })
      .toBeGreaterThanOrEqual(1)

    // the wallet authorizes the tab's donor key: one signature, accepted by the meta node
    await connected(donate)
    const authorize = donate.getByTestId('earn-authorize')
    await expect.poll(() => authorize.count(), { timeout: 30_000 }).toBe(1)
    expect(await authorize.textContent()).toBe(`Authorize this tab to earn for ${account.address}`)
    const grantAnswer = donate.waitForResponse((res) => new URL(res.url()).pathname === '/v1/grants' && res.request().method() === 'POST')
    await authorize.click()
    expect((await grantAnswer).status()).toBe(200)
    expect(await (await grantAnswer).json()).toEqual({ ok: true })
    const card = donate.getByTestId('earn-card')
    await expect.poll(() => card.getAttribute('data-grant'), { timeout: 30_000 }).toBe('granted')
    expect(injected.requests.map((r) => r.method)).toEqual(['eth_signTypedData_v4'])
    // the key the wallet authorized is the donor's operator, as the meta node lists it
    const operator = (await meta<{ nodes: NodeInfo[] }>('/v1/nodes')).nodes.find((n) => n.peerId === peerId)?.operator
    expect(operator).toBeDefined()
    expect((await card.getAttribute('data-session-key'))?.toLowerCase()).toBe(operator?.toLowerCase())
    expect((await meta<RewardsResponse>(`/v1/rewards/${account.address}`)).pending).toBe('0')

    // a reload asks the wallet nothing: the grant is remembered for this key
    await donate.reload()
    await expect.poll(() => donate.getByTestId('donate-state').getAttribute('data-value'), { timeout: 60_000 }).toBe('serving')
    expect(await donate.getByTestId('donate-peer-id').getAttribute('data-value')).toBe(peerId)
    await connected(donate)
    await expect.poll(() => card.getAttribute('data-grant'), { timeout: 30_000 }).toBe('granted')
    expect(injected.requests.map((r) => r.method)).toEqual(['eth_signTypedData_v4'])
    await expect.poll(() => donate.getByTestId('donate-pending').getAttribute('data-value'), { timeout: 30_000 }).toBe('0')

    // another tab downloads the file from the donor alone, early in an epoch (its receipts stay in the open epoch)
    await vi.waitFor(
      async () => {
        const { endsAt } = await meta<EpochResponse>('/v1/epoch')
        expect(endsAt - Date.now() / 1000).toBeGreaterThan(EPOCH_SECONDS - 5)
      },
      { timeout: (EPOCH_SECONDS + 10) * 1000, interval: 250 },
    )
    const viewer = await browser.newPage()
    const viewerErrors = collectPageErrors(viewer, 'viewer')
    captureReceipts(viewer, forwarded)
    await viewer.goto(server.url)
    await viewer.waitForFunction(() => globalThis.tab !== undefined)
    const relays = net.file.nodes.flatMap((node) =>
      node.multiaddrs.filter((a) => a.includes('/ws')).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${node.peerId}`)),
    )
    await viewer.evaluate((c) => globalThis.tab.init(c), {
      metaUrls: net.file.metaUrls,
      relays,
      trustedMetas: net.file.metaAddresses ?? [],
      chainId: net.file.chainId,
      accountKey: net.file.devKey as `0x${string}`,
    })
    await viewer.evaluate(([r, only]) => globalThis.tab.startDownload(r, [...only]), [root, [peerId]] as const)
    const result = await viewer.evaluate(() => globalThis.tab.finishDownload())
    expect(result.bytes).toBe(size)
    expect(result.sha256).toBe(Buffer.from(sha256(patternBytes(size, 21))).toString('hex'))
    // every block from the donor (the file's bytes and its DAG nodes)
    expect(result.bytesFromPeers).toBeGreaterThanOrEqual(size)
    expect(result.bytesFromNodes).toBe(0)

    // the test's own sum: the latest receipt per ticket for the donor, of those the tabs handed to the meta node
    const served = () => {
      const latest = new Map<string, { bytes: number; epoch: number }>()
      for (const { receipt } of forwarded) {
        if (receipt.provider !== peerId) continue
        const seen = latest.get(receipt.ticket)
        if (seen === undefined || receipt.bytes > seen.bytes) latest.set(receipt.ticket, { bytes: receipt.bytes, epoch: receipt.epoch })
      }
      return [...latest.values()]
    }
    const sum = () => served().reduce((n, r) => n + BigInt(r.bytes), 0n)
    await expect.poll(sum, { timeout: 30_000 }).toBeGreaterThanOrEqual(BigInt(result.bytesFromPeers))
    const bytes = sum()
    const epochs = new Set(served().map((r) => r.epoch))
    expect(epochs.size).toBe(1)
    const [epoch] = [...epochs] as [number]
    const expectedPending = feeShare(bytes)
    expect(expectedPending).toBeGreaterThan(0n)
    await expect.poll(() => donate.getByTestId('donate-pending').getAttribute('data-value'), { timeout: 30_000 }).toBe(String(expectedPending))
    // still the open epoch: the figure is the fee share alone (a closed epoch adds its emission)
    expect((await meta<EpochResponse>('/v1/epoch')).epoch).toBe(epoch)
    console.info(`donor served ${bytes} bytes in epoch ${epoch} (${forwarded.length} receipts forwarded); pending ${expectedPending} wei`)

    // the epoch settles on chain; the amount moves from pending to the settled cumulative
    await vi.waitFor(async () => expect(Number(await pub().readContract({ ...settlement(), functionName: 'lastEpoch' }))).toBeGreaterThanOrEqual(epoch), {
      timeout: (EPOCH_SECONDS + 60) * 1000,
      interval: 500,
    })
    // emission: min(E·b/B, 10 % of the fee); E·b/B is below the cap only if B passed 100 GiB, which nothing here moves
    const expectedCumulative = expectedPending + emissionCap(bytes)
    const rewards = await vi.waitFor(
      async () => {
        const r = await meta<RewardsResponse>(`/v1/rewards/${account.address}`)
        expect(r.epoch).toBeGreaterThanOrEqual(epoch)
        return r
      },
      { timeout: 30_000, interval: 500 },
    )
    expect(BigInt(rewards.cumulative)).toBe(expectedCumulative)
    expect(rewards.epochs).toEqual([{ epoch, earned: String(expectedCumulative) }])
    await expect.poll(() => donate.getByTestId('donate-pending').getAttribute('data-value'), { timeout: 30_000 }).toBe('0')

    // the Rewards page shows it claimable, estimates the gas, and the Claim pays exactly that
    const { page: rewardsPage, errors: rewardsErrors } = await openPortal('/rewards', 'rewards-claim')
    await connected(rewardsPage)
    await expect.poll(() => rewardsPage.getByTestId('rewards-claimable').getAttribute('data-value'), { timeout: 30_000 }).toBe(String(expectedCumulative))
    expect(await rewardsPage.getByTestId('rewards-claimed').getAttribute('data-value')).toBe('0')
    const row = rewardsPage.locator(`[data-testid="rewards-epoch-row"][data-epoch="${epoch}"]`)
    expect([await row.getAttribute('data-status'), await row.getAttribute('data-earned')]).toEqual(['claimable', String(expectedCumulative)])
    await expect.poll(async () => Number(await rewardsPage.getByTestId('claim-gas').getAttribute('data-value')), { timeout: 30_000 }).toBeGreaterThan(21_000)
    const before = await balanceOf(account.address)
    await rewardsPage.getByTestId('claim-button').click()
    const status = rewardsPage.getByTestId('claim-status')
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 60_000 }).toMatch(/mined|failed/)
    expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('mined')
    expect(Number(await status.getAttribute('data-gas-used'))).toBeGreaterThan(21_000)
    expect((await balanceOf(account.address)) - before).toBe(expectedCumulative)
    expect(await pub().readContract({ ...settlement(), functionName: 'claimed', args: [account.address] })).toBe(expectedCumulative)
    await expect.poll(() => rewardsPage.getByTestId('rewards-claimable').getAttribute('data-value'), { timeout: 30_000 }).toBe('0')
    expect(await rewardsPage.getByTestId('rewards-claimed').getAttribute('data-value')).toBe(String(expectedCumulative))
    expect(await row.getAttribute('data-status')).toBe('claimed')
    expect(await rewardsPage.getByTestId('claim-button').isDisabled()).toBe(true)
    expect(injected.requests.map((r) => r.method)).toEqual(['eth_signTypedData_v4', 'eth_sendTransaction'])

    expect([...errors, ...viewerErrors, ...rewardsErrors]).toEqual([])
    await donate.getByTestId('donate-stop').click()
    await viewer.close()
    await donate.close()
    await rewardsPage.close()
  }, 420_000)

  test("behavior: without a browser wallet, the devnet's dev account (anvil's, unlocked) connects and signs a tab's grant through the chain's RPC", async () => {
    const plain = await browser.newContext()
    try {
      const page = await plain.newPage()
      const errors = collectPageErrors(page, 'dev-account')
      await page.goto(`${portal}/donate`)
      await expect.poll(() => page.getByTestId('donate-app').getAttribute('data-loaded'), { timeout: 60_000 }).toBe('true')
      await page.getByTestId('donate-toggle').click()
      await expect.poll(() => page.getByTestId('donate-state').getAttribute('data-value'), { timeout: 60_000 }).toBe('serving')
      // no EIP-6963 wallet in this context: only the devnet's option
      await page.getByTestId('wallet-none').waitFor({ timeout: 30_000 })
      await page.getByTestId('wallet-dev-account').click()
      await expect.poll(() => page.getByTestId('wallet-address').getAttribute('data-value'), { timeout: 30_000 }).toBe(ANVIL_DEV_ACCOUNT)
      const grantAnswer = page.waitForResponse((res) => new URL(res.url()).pathname === '/v1/grants' && res.request().method() === 'POST')
      await page.getByTestId('earn-authorize').click()
      expect((await grantAnswer).status()).toBe(200)
      await expect.poll(() => page.getByTestId('earn-card').getAttribute('data-grant'), { timeout: 30_000 }).toBe('granted')
      expect(await page.getByTestId('earn-granted').getAttribute('data-wallet')).toBe(ANVIL_DEV_ACCOUNT)
      await expect.poll(() => page.getByTestId('donate-pending').getAttribute('data-value'), { timeout: 30_000 }).toBe('0')
      expect(errors).toEqual([])
      await page.getByTestId('donate-stop').click()
      await expect.poll(() => page.getByTestId('donate-app').getAttribute('data-status'), { timeout: 30_000 }).toBe('off')
    } finally {
      await plain.close()
    }
  }, 180_000)

  test("behavior: the Files page holds no key: its browser key cannot upload on credit it does not have (CreditExhaustedError), then the dev account authorizes it and the upload is paid from the wallet's credit", async () => {
    const plain = await browser.newContext()
    try {
      const page = await plain.newPage()
      const errors = collectPageErrors(page, 'files-wallet')
      await page.goto(`${portal}/files`)
      await expect.poll(() => page.getByTestId('files-app').getAttribute('data-state'), { timeout: 120_000 }).toBe('ready')
      const key = page.getByTestId('browser-key')
      await expect.poll(() => key.getAttribute('data-address'), { timeout: 30_000 }).toMatch(/^0x[0-9a-fA-F]{40}$/)
      const browserKey = (await key.getAttribute('data-address')) as string
      // the page signs as its own key, not as the devnet's dev account
      expect(browserKey.toLowerCase()).not.toBe(ANVIL_DEV_ACCOUNT.toLowerCase())
      expect(browserKey.toLowerCase()).not.toBe(privateKeyToAccount(net.file.devKey as `0x${string}`).address.toLowerCase())
      const path = join(net.dataDir, 'files-wallet.bin')
      await writeFile(path, patternBytes(2 * 1024 * 1024 + 5, 23))
      const panel = page.getByTestId('upload-panel')
      // unauthorized: nobody pays, the upload stops with a sentence naming the missing credit
      await page.getByTestId('upload-input').setInputFiles(path)
      await expect.poll(() => panel.getAttribute('data-state'), { timeout: 60_000 }).toMatch(/done|error/)
      expect(await panel.getAttribute('data-state')).toBe('error')
      expect(await page.getByTestId('upload-error').textContent()).toMatch(/credit/i)
      // the devnet's dev account (anvil's, unlocked; its credit deposited by the devnet) authorizes this browser's key
      await page.getByTestId('wallet-dev-account').click()
      await expect.poll(() => page.getByTestId('wallet-address').getAttribute('data-value'), { timeout: 30_000 }).toBe(ANVIL_DEV_ACCOUNT)
      await page.getByTestId('pay-authorize').click()
      await expect.poll(() => page.getByTestId('pay-card').getAttribute('data-grant'), { timeout: 30_000 }).toBe('granted')
      const granted = (await (await fetch(new URL(`/v1/grants/${browserKey}`, net.file.metaUrls[0]))).json()) as { grant: { grant: { wallet: string } } | null }
      expect(granted.grant?.grant.wallet.toLowerCase()).toBe(ANVIL_DEV_ACCOUNT.toLowerCase())
      // the same upload now goes through, paid by the wallet
      await page.getByTestId('upload-input').setInputFiles(path)
      await expect.poll(() => panel.getAttribute('data-state'), { timeout: 60_000 }).toMatch(/done|error/)
      expect(
        await panel.getAttribute('data-state'),
        (await page
          .getByTestId('upload-error')
          .textContent()
          .catch(() => '')) ?? '',
      ).toBe('done')
      const root = (await page.getByTestId('upload-root').textContent())?.trim()
      await expect.poll(() => page.locator(`[data-testid="file-row"][data-root="${root}"]`).count(), { timeout: 30_000 }).toBe(1)
      // the refused placement's 402 (Payment Required) is the only error the page logged
      expect(errors.filter((e) => !/402 \(Payment Required\)/.test(e))).toEqual([])
    } finally {
      await plain.close()
    }
  }, 240_000)
})
