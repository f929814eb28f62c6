import { fileURLToPath } from 'node:url'
import { startTestNetwork, type TestNetwork } from '@konbini/relay/testing'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { bundle, collectPageErrors, launchChromium, requireBrowserWebrtc, type StaticServer, startStaticServer } from './harness/index.ts'
import type { Smoke } from './pages/webrtc-smoke.ts'

declare global {
  var smoke: Smoke
}

const canRun = requireBrowserWebrtc()

describe.skipIf(!canRun)('two browser tabs over WebRTC through a Konbini relay', () => {
  let net: TestNetwork
  let server: StaticServer
  let browser: Browser
  let relays: string[]
  const tabs: { page: Page; errors: string[] }[] = []

  beforeAll(async () => {
    const page = bundle(fileURLToPath(new URL('./pages/webrtc-smoke.ts', import.meta.url)))
    net = await startTestNetwork({ resources: 1 })
    const node = net.file.nodes[0]!
    relays = node.multiaddrs.filter((a) => a.includes('/ws')).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${node.peerId}`))
    const { code, ms } = await page
    console.info(`bundle: ${(code.length / 1024).toFixed(0)} KiB in ${ms.toFixed(0)} ms`)
    server = await startStaticServer({ script: code })
    browser = await launchChromium()
    // two tabs of one browser window (one context)
    const context = await browser.newContext()
    for (const label of ['A', 'B']) {
      const tab = await context.newPage()
      tabs.push({ page: tab, errors: collectPageErrors(tab, label) })
      await tab.goto(server.url)
      await tab.waitForFunction(() => globalThis.smoke !== undefined)
    }
  })

  afterAll(async () => {
    for (const { page } of tabs) await page.evaluate(() => globalThis.smoke.stop()).catch(() => {})
    await browser?.close()
    await server?.close()
    await net?.stop()
  })

  test('default: tab B dials tab A directly over WebRTC and 8 MiB arrive intact', async () => {
    const [a, b] = tabs as [{ page: Page; errors: string[] }, { page: Page; errors: string[] }]
    const started = await a.page.evaluate((r) => globalThis.smoke.start(r), relays)
    expect(started.addr, `tab A has no reservation address; errors: ${a.errors.join('\n')}`).toMatch(/\/p2p-circuit\/webrtc\/p2p\//)
    await b.page.evaluate((r) => globalThis.smoke.start(r, false), relays)

    const conn = await b.page.evaluate((addr) => globalThis.smoke.dial(addr), started.addr!)
    console.info(`reservation ${started.ms.toFixed(0)} ms; dial to direct connection ${conn.ms.toFixed(0)} ms`)
    expect(conn).toMatchObject({ direct: true, multiplexer: '/webrtc', limited: false, status: 'open' })

    const size = 8 * 1024 * 1024
    const received = a.page.evaluate(() => globalThis.smoke.recv())
    const sent = await b.page.evaluate(([peer, n]) => globalThis.smoke.send(peer, n), [started.peerId, size] as const)
    console.info(`8 MiB tab to tab in ${sent.ms.toFixed(0)} ms (${(size / 1e6 / (sent.ms / 1000)).toFixed(1)} MB/s; ${JSON.stringify(sent.phases)})`)
    expect(await received).toEqual({ bytes: size, sha256: sent.sha256, direct: true })
    expect(sent.answer).toBe(sent.sha256)
    expect([...a.errors, ...b.errors]).toEqual([])
  })
})
