import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { importToSink } from '@konbini/browser-node'
import { type NodeInfo, sessionGrantTypedData } from '@konbini/protocol'
import { startTestNetwork, type TestNetwork } from '@konbini/relay/testing'
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core'
import { privateKeyToAccount } from 'viem/accounts'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { collectPageErrors, launchChromium, requireBrowserWebrtc } from './harness/index.ts'
import { patternBytes, patternChunks } from './pages/pattern.ts'

const MiB = 1024 * 1024
const GiB = 1024 * MiB
const canRun = requireBrowserWebrtc()

/** Resolves once `url` answers 200, i.e. `next dev` is up and compiled the route; rejects if Next exits first. */
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

/** Polls `read` until `ok` holds (also outside a test, where `expect.poll` cannot run); returns the last value. */
async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await read()
    if (ok(value)) return value
    if (Date.now() > deadline) throw new Error(`${what}: still ${String(value)} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** The text of a test id's element, or '' when there is none (for a failing assertion's message). */
async function textOf(page: Page, testId: string): Promise<string> {
  const el = page.getByTestId(testId)
  return (await el.count()) > 0 ? ((await el.first().textContent()) ?? '') : ''
}

/** SHA-256 (hex) of a file, streamed. */
async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(path, { highWaterMark: 4 * MiB }), hash)
  return hash.digest('hex')
}

/** Writes pattern bytes to `path`, hashing them on the way; returns the SHA-256 (hex). */
async function writePattern(path: string, size: number, seed: number): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(
    (function* () {
      for (const chunk of patternChunks(size, seed)) {
        hash.update(chunk)
        yield chunk
      }
    })(),
    createWriteStream(path),
  )
  return hash.digest('hex')
}

/**
 * Samples JS heaps over CDP every `everyMs`: the page's, and each Service Worker's when one can be
 * attached (through the browser session, as Playwright gives no CDP session for workers).
 */
async function heapSampler(browser: Browser, page: Page, everyMs = 250) {
  const pageCdp = await page.context().newCDPSession(page)
  const browserCdp = await browser.newBrowserCDPSession()
  let nextId = 1
  const pending = new Map<number, (used: number | undefined) => void>()
  browserCdp.on('Target.receivedMessageFromTarget', (event) => {
    const msg = JSON.parse(event.message) as { id?: number; result?: { usedSize?: number } }
    if (msg.id !== undefined) pending.get(msg.id)?.(msg.result?.usedSize)
  })
  const workers: { sessionId: string; url: string }[] = []
  try {
    const { targetInfos } = await browserCdp.send('Target.getTargets')
    for (const t of targetInfos.filter((i) => i.type === 'service_worker')) {
      // the non-flattened mode: messages go through Target.sendMessageToTarget on this session
      const { sessionId } = await browserCdp.send('Target.attachToTarget', { targetId: t.targetId, flatten: false })
      workers.push({ sessionId, url: t.url })
    }
  } catch {}
  const workerHeap = (sessionId: string) =>
    new Promise<number | undefined>((resolve) => {
      const id = nextId++
      const timer = setTimeout(() => resolve(undefined), 2000)
      pending.set(id, (used) => {
        clearTimeout(timer)
        pending.delete(id)
        resolve(used)
      })
      browserCdp
        .send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method: 'Runtime.getHeapUsage' }) })
        .catch(() => resolve(undefined))
    })
  const page$: number[] = []
  const worker$: number[] = []
  let running = true
  const loop = (async () => {
    while (running) {
      const [p, ...w] = await Promise.all([
        pageCdp
          .send('Runtime.getHeapUsage')
          .then((u) => u.usedSize)
          .catch(() => undefined),
        ...workers.map((x) => workerHeap(x.sessionId)),
      ])
      if (p !== undefined) page$.push(p)
      const sw = w.filter((v): v is number => v !== undefined)
      if (sw.length > 0) worker$.push(sw.reduce((a, b) => a + b, 0))
      await new Promise((resolve) => setTimeout(resolve, everyMs))
    }
  })()
  return {
    workers: workers.map((w) => w.url),
    async stop() {
      running = false
      await loop
      await pageCdp.detach().catch(() => {})
      await (browserCdp as CDPSession).detach().catch(() => {})
      return { page: page$, worker: worker$ }
    },
  }
}

describe.skipIf(!canRun)('the portal (next dev) in Chromium', () => {
  let net: TestNetwork
  let browser: Browser
  let context: BrowserContext
  let portal: string
  let work: string
  const devnetLog: string[] = []

  async function openPage(path: string, label: string): Promise<{ page: Page; errors: string[] }> {
    const page = await context.newPage()
    const errors = collectPageErrors(page, label)
    await page.goto(`${portal}${path}`)
    return { page, errors }
  }

  async function openFiles(): Promise<{ page: Page; errors: string[] }> {
    const opened = await openPage('/files', 'files')
    const app = opened.page.getByTestId('files-app')
    const state = await until(
      () => app.getAttribute('data-state'),
      (s) => s !== 'loading',
      120_000,
      'files-app data-state',
    )
    if (state !== 'ready') throw new Error(`the Files page's client did not start (${state}): ${await textOf(opened.page, 'client-error')}`)
    return opened
  }

  /**
   * The devnet's dev wallet authorizes this browser's own key (the test signs the grant as the
   * wallet would: the page never holds the dev key), then the Files page is opened again: it acts
   * for the wallet and lists the wallet's files.
   */
  async function authorizeAsDevWallet(opened: { page: Page }): Promise<{ page: Page; errors: string[] }> {
    const key = opened.page.getByTestId('browser-key')
    const sessionKey = await until(
      () => key.getAttribute('data-address'),
      (a) => (a ?? '') !== '',
      30_000,
      'the browser key',
    )
    const dev = privateKeyToAccount(net.file.devKey as `0x${string}`)
    const grant = { wallet: dev.address, sessionKey: sessionKey as string, expiresAt: Math.floor(Date.now() / 1000) + 3600 }
    const signature = await dev.signTypedData(sessionGrantTypedData(grant, net.file.chainId))
    const res = await fetch(`${net.file.metaUrls[0]}/v1/grants`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant, signature }),
    })
    expect(res.status, await res.text()).toBe(200)
    await opened.page.close()
    const again = await openFiles()
    const wallet = await until(
      () => again.page.getByTestId('browser-key').getAttribute('data-wallet'),
      (w) => (w ?? '') !== '',
      30_000,
      'the wallet shown',
    )
    expect(wallet?.toLowerCase()).toBe(dev.address.toLowerCase())
    // the key is this browser's, not the dev key: no private key reached the page
    expect(sessionKey?.toLowerCase()).not.toBe(dev.address.toLowerCase())
    return again
  }

  /** Transfer reports the meta nodes accepted so far (`konbini_transfer_reports_total`, summed). */
  async function transferReports(): Promise<number> {
    let total = 0
    for (const url of net.file.metaUrls) {
      const text = await (await fetch(`${url}/metrics`)).text()
      total += Number(/^konbini_transfer_reports_total (\d+)$/m.exec(text)?.[1] ?? 0)
    }
    return total
  }

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'konbini-portal-'))
    const started = performance.now()
    net = await startTestNetwork({ resources: 3, web: true, log: (line) => devnetLog.push(line) })
    if (net.file.webUrl === undefined) throw new Error('the devnet started no portal')
    // Chromium here resolves nothing but 127.0.0.1 (harness flags); Next listens there
    portal = `http://127.0.0.1:${new URL(net.file.webUrl).port}`
    const devnetMs = performance.now() - started
    try {
      // next dev compiles a route on its first request: both pages once, server side…
      await waitForPage(`${portal}/files`, net.devnet.web, 300_000)
      await waitForPage(`${portal}/donate`, net.devnet.web, 300_000)
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${devnetLog.slice(-30).join('\n')}`)
    }
    const serverMs = performance.now() - started
    browser = await launchChromium()
    context = await browser.newContext({ acceptDownloads: true })
    // …and their client chunks once in a tab
    const warm = await openFiles()
    await warm.page.close()
    const donate = await openPage('/donate', 'donate-warm')
    await until(
      () => donate.page.getByTestId('donate-app').getAttribute('data-loaded'),
      (v) => v === 'true',
      120_000,
      'donate-app data-loaded',
    )
    await donate.page.close()
    console.info(
      `portal warm-up: devnet ${(devnetMs / 1000).toFixed(1)} s, next dev up with /files and /donate rendered ${((serverMs - devnetMs) / 1000).toFixed(1)} s, both pages hydrated in a tab ${((performance.now() - started - serverMs) / 1000).toFixed(1)} s`,
    )
  }, 600_000)

  afterAll(async () => {
    await browser?.close()
    await net?.stop()
    if (work) await rm(work, { recursive: true, force: true })
  }, 60_000)

  test('behavior: a 64 MiB upload from the Files page reaches 3 holders with the Node client CID; progress reaches 100 %', async () => {
    const size = 64 * MiB
    const name = 'portal-upload.bin'
    const path = join(work, name)
    const bytes = patternBytes(size, 11)
    await writeFile(path, bytes)
    const nodeRoot = (await importToSink([{ path: name, content: [bytes] }], () => {})).cid.toString()

    const { page, errors } = await openFiles()
    const panel = page.getByTestId('upload-panel')
    const started = performance.now()
    await page.getByTestId('upload-input').setInputFiles(path)
    // the values the bar showed while running
    const seen = new Set<number>()
    await expect
      .poll(
        async () => {
          const value = await page
            .getByTestId('upload-progress')
            .getAttribute('data-value', { timeout: 1000 })
            .catch(() => null)
          if (value !== null) seen.add(Number(value))
          return panel.getAttribute('data-state')
        },
        { timeout: 180_000, interval: 200 },
      )
      .toMatch(/done|error/)
    const uploadMs = performance.now() - started
    expect(await panel.getAttribute('data-state'), await textOf(page, 'upload-error')).toBe('done')

    const root = (await page.getByTestId('upload-root').textContent())?.trim()
    expect(root).toBe(nodeRoot)
    expect(await page.getByTestId('upload-holders').getAttribute('data-value')).toBe('3')
    const progress = page.getByTestId('upload-progress')
    expect(await progress.getAttribute('data-value')).toBe('100')
    expect(await progress.getAttribute('aria-valuenow')).toBe('100')
    expect(await page.getByTestId('upload-phase').getAttribute('data-phase')).toBe('done')
    const row = page.locator(`[data-testid="file-row"][data-root="${nodeRoot}"]`)
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1)
    expect(await row.getAttribute('data-name')).toBe(name)
    expect(await row.getByTestId('file-holders').textContent()).toBe('3')
    const shown = [...seen].sort((a, b) => a - b)
    console.info(
      `64 MiB upload from the Files page: ${(uploadMs / 1000).toFixed(1)} s (${(size / MiB / (uploadMs / 1000)).toFixed(1)} MiB/s); progress values seen: ${shown.join(', ')}`,
    )
    expect(errors).toEqual([])
    await page.close()
    await rm(path)
  }, 300_000)

  test("behavior: a 1 GiB file is saved from the Files page while the tab's JS heap stays under 256 MiB", async () => {
    const size = GiB
    const name = 'portal-save.bin'
    const path = join(work, name)
    let t = performance.now()
    const expected = await writePattern(path, size, 12)
    const put = await net.cli(['put', path, '--json'])
    expect(put.code, put.stderr).toBe(0)
    const root = JSON.parse(put.stdout).root as string
    await rm(path)
    console.info(`1 GiB pattern written and put through the CLI in ${((performance.now() - t) / 1000).toFixed(1)} s`)

    // the file is the dev wallet's (put through the CLI): this browser lists it once the wallet authorized it
    const { page, errors } = await authorizeAsDevWallet(await openFiles())
    await expect.poll(() => page.getByTestId('streaming-state').getAttribute('data-state'), { timeout: 60_000 }).toBe('ready')
    const row = page.locator(`[data-testid="file-row"][data-root="${root}"]`)
    await expect.poll(() => row.count(), { timeout: 30_000 }).toBe(1)

    const reportsBefore = await transferReports()
    const sampler = await heapSampler(browser, page)
    t = performance.now()
    const download = page.waitForEvent('download', { timeout: 60_000 })
    await row.getByTestId('save-button').click()
    const saved = await (await download).path()
    const status = row.getByTestId('save-status')
    await expect.poll(() => status.getAttribute('data-state'), { timeout: 60_000 }).not.toBe('saving')
    const saveMs = performance.now() - t
    const heaps = await sampler.stop()
    expect(await status.getAttribute('data-state'), (await status.textContent()) ?? '').toBe('saved')
    // the share from peers shows whatever its value (0 % when only full nodes carried the bytes)
    expect(await status.textContent()).toMatch(/^Saved · \d+ % from peers$/)
    // the tab told the meta node what it measured, as the CLI does when a download ends
    await expect.poll(transferReports, { timeout: 30_000 }).toBeGreaterThan(reportsBefore)

    const maxPage = Math.max(...heaps.page)
    const maxWorker = heaps.worker.length > 0 ? Math.max(...heaps.worker) : undefined
    console.info(
      `1 GiB save: ${(saveMs / 1000).toFixed(1)} s (${(size / MiB / (saveMs / 1000)).toFixed(1)} MiB/s); max JS heap: tab ${(maxPage / MiB).toFixed(1)} MiB over ${heaps.page.length} samples, Service Worker ${
        maxWorker === undefined ? 'not sampled' : `${(maxWorker / MiB).toFixed(1)} MiB over ${heaps.worker.length} samples (${sampler.workers.join(', ')})`
      }`,
    )
    expect(heaps.page.length).toBeGreaterThan(4)
    expect(maxPage).toBeLessThan(256 * MiB)
    expect((await stat(saved)).size).toBe(size)
    expect(await sha256File(saved)).toBe(expected)
    await (await download).delete()
    expect(errors).toEqual([])
    await page.close()
  }, 600_000)

  test('behavior: the Donate page opts in, shows live numbers and the IP notice, and Stop leaves nothing running', async () => {
    // a small public file, made popular (provider requests), for the donor's cache to fill with
    const size = 2 * MiB
    const path = join(work, 'portal-public.bin')
    await writeFile(path, patternBytes(size, 13))
    const put = await net.cli(['put', path, '--public', '--json'])
    expect(put.code, put.stderr).toBe(0)
    const publicRoot = JSON.parse(put.stdout).root as string
    for (let i = 0; i < 3; i++) expect((await net.cli(['get', publicRoot, '-o', join(work, `portal-public-${i}.out`)])).code).toBe(0)

    const page = await context.newPage()
    const errors = collectPageErrors(page, 'donate')
    // the tab's WebSockets to relays (Next's own dev socket to the portal aside)
    const cdp = await context.newCDPSession(page)
    const sockets = new Map<string, { url: string; open: boolean }>()
    cdp.on('Network.webSocketCreated', ({ requestId, url }) => {
      if (!url.includes(new URL(portal).host)) sockets.set(requestId, { url, open: true })
    })
    cdp.on('Network.webSocketClosed', ({ requestId }) => {
      const socket = sockets.get(requestId)
      if (socket) socket.open = false
    })
    await cdp.send('Network.enable')
    await page.goto(`${portal}/donate`)
    const app = page.getByTestId('donate-app')
    await expect.poll(() => app.getAttribute('data-loaded'), { timeout: 60_000 }).toBe('true')
    expect(await app.getAttribute('data-status')).toBe('off')
    const toggle = page.getByTestId('donate-toggle')
    expect(await toggle.getAttribute('aria-checked')).toBe('false')
    expect(await page.getByTestId('donate-ip-warning').textContent()).toMatch(/IP address/)
    // no rate cap by default (a donor carries what its uplink can); the daily cap is lifted by hand
    expect(await page.getByTestId('donate-upload-rate-no-cap').isChecked()).toBe(true)
    expect(await page.getByTestId('donate-upload-rate').inputValue()).toBe('')
    expect(await page.getByTestId('donate-upload-rate').getAttribute('placeholder')).toBe('no cap')
    expect(await page.getByTestId('donate-daily-no-cap').isChecked()).toBe(false)
    await page.getByTestId('donate-daily-no-cap').check()
    expect(await page.getByTestId('donate-daily').inputValue()).toBe('')
    await page.getByTestId('donate-apply').click()
    await expect.poll(() => page.getByTestId('donate-apply').isDisabled(), { timeout: 10_000 }).toBe(true)
    expect(await page.getByTestId('donate-error').count()).toBe(0)

    await toggle.click()
    await expect
      .poll(async () => ((await page.getByTestId('donate-error').count()) > 0 ? 'error' : app.getAttribute('data-status')), { timeout: 60_000 })
      .toMatch(/on|error/)
    expect(await app.getAttribute('data-status'), await textOf(page, 'donate-error')).toBe('on')
    expect(await toggle.getAttribute('aria-checked')).toBe('true')
    await expect.poll(() => page.getByTestId('donate-state').getAttribute('data-value'), { timeout: 60_000 }).toBe('serving')
    const peerId = await page.getByTestId('donate-peer-id').getAttribute('data-value')
    expect(peerId).toMatch(/^12D3Koo/)
    for (const id of ['donate-served', 'donate-served-24h', 'donate-peers', 'donate-cached-bytes', 'donate-cached-roots']) {
      expect(Number(await page.getByTestId(id).getAttribute('data-value')), id).toBeGreaterThanOrEqual(0)
    }
    // live: the meta node assigns the popular public root, the tab caches it, the numbers follow
    await expect
      .poll(async () => Number(await page.getByTestId('donate-cached-roots').getAttribute('data-value')), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(1)
    expect(Number(await page.getByTestId('donate-cached-bytes').getAttribute('data-value'))).toBeGreaterThanOrEqual(size)
    expect([...sockets.values()].filter((s) => s.open).length).toBeGreaterThan(0)

    const metaNodes = async () => {
      const res = await fetch(`${net.file.metaUrls[0]}/v1/nodes`)
      return ((await res.json()) as { nodes: NodeInfo[] }).nodes.find((n) => n.peerId === peerId)
    }
    // the tab's heartbeat registers it as a live light peer
    await expect.poll(async () => (await metaNodes())?.live, { timeout: 30_000 }).toBe(true)
    expect((await metaNodes())?.kind).toBe('light')
    // "no cap" reaches the donor as 0 = unlimited: the page says so, and so does its heartbeat
    const inForce = page.getByTestId('donate-caps-in-force')
    expect([await inForce.getAttribute('data-upload-kibps'), await inForce.getAttribute('data-daily-mib')]).toEqual(['0', '0'])
    expect(await inForce.textContent()).toBe('Upload rate: no cap · daily upload: no cap')
    expect((await metaNodes())?.egressCapBps).toBe(0)

    await page.getByTestId('donate-stop').click()
    await expect.poll(() => app.getAttribute('data-status'), { timeout: 30_000 }).toBe('off')
    expect(await toggle.getAttribute('aria-checked')).toBe('false')
    expect(await page.getByTestId('donate-state').getAttribute('data-value')).toBe('stopped')
    expect(Number(await page.getByTestId('donate-peers').getAttribute('data-value'))).toBe(0)
    // it left: the meta node no longer counts it as live…
    const left = await metaNodes()
    expect(left?.live ?? false).toBe(false)
    // …every relay connection is closed…
    await expect.poll(() => [...sockets.values()].filter((s) => s.open).map((s) => s.url), { timeout: 15_000 }).toEqual([])
    // …and no heartbeat follows (one every 5 s while donating): wait out two
    await page.waitForTimeout(11_000)
    // (the meta node may have forgotten the departed peer by now: a heartbeat would have brought it back, live)
    const later = await metaNodes()
    expect(later?.live ?? false).toBe(false)
    if (later !== undefined) expect(later.lastSeen).toBe(left?.lastSeen)
    expect(await page.getByTestId('donate-error').count()).toBe(0)
    expect(errors).toEqual([])
    await cdp.detach()
    await page.close()
  }, 180_000)
})
