import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { Browser, Page } from 'playwright-core'
import {
  bundle,
  chromiumPath,
  collectPageErrors,
  launchChromium,
  type StaticServer,
  startStaticServer,
  webrtcAvailable,
} from '../apps/web/e2e/harness/index.ts'
import type { BenchPage } from './browser/api.ts'
import { type BenchResult, goalMet, log, MiB, round } from './harness.ts'
import { watchRefusals } from './limits.ts'
import { type BenchNet, startBenchNet, untilHoldersServe } from './net.ts'
import type { DevnetOptions } from '../apps/relay/src/cli/devnet.ts'

declare global {
  var bench: BenchPage
}

export interface Tab {
  page: Page
  errors: string[]
  /** HTTP answers a limit refused (`watchRefusals`): 429, 413. */
  refusals: string[]
  label: string
}

/** A devnet, the bench page on a static server (plus a POST sink), and one Chromium: tabs in it. */
export interface BrowserSession {
  net: BenchNet
  browser: Browser
  /** `http://127.0.0.1:<port>/sink`: drains a POST body and answers `{ bytes }`. */
  sinkUrl: string
  /** Resource nodes' HTTP URLs (gateway `/ipfs/{cid}`), in devnet order. */
  httpUrls: string[]
  /** Resource nodes' peer ids, in devnet order. */
  nodeIds: string[]
  /** A new tab in a context of its own (own IndexedDB: own donor keys), bench page loaded and `init` done. */
  openTab(label: string): Promise<Tab>
  /** Puts `size` fresh random bytes as a public file (light peers may cache it); returns the root. */
  putPublic(name: string, size: number, replicas?: number): Promise<string>
  /** A provider request for `root` from a non-donor account: makes it popular, so donors are assigned it. */
  /** Sends provider requests for `root` (8 by default): the meta node assigns donors in proportion to demand. */
  makePopular(root: string, requests?: number): Promise<void>
  stop(): Promise<void>
}

/** Throws unless this process can run Chromium with WebRTC (inside the bench network namespace). */
export function requireBrowserBench(): void {
  if (!webrtcAvailable()) throw new Error('browser benches need the network namespace: run them through `npm run bench` as root with `ip` (iproute2)')
  if (!existsSync(chromiumPath())) throw new Error(`no Chromium at ${chromiumPath()} (apt-get install chromium, or set KONBINI_CHROMIUM)`)
}

export async function startBrowserSession(options: Partial<DevnetOptions> & { resources: number }): Promise<BrowserSession> {
  requireBrowserBench()
  const page = bundle(fileURLToPath(new URL('./browser/page.ts', import.meta.url)))
  const net = await startBenchNet(options)
  let server: StaticServer | undefined
  let browser: Browser | undefined
  try {
    const { code, ms } = await page
    log(`  bench page bundled in ${Math.round(ms)} ms (${(code.length / MiB).toFixed(1)} MiB)`)
    server = await startStaticServer({ script: code, title: 'konbini bench', routes: { '/sink': sink } })
    browser = await launchChromium()
    const file = net.devnet.file
    const relays = file.nodes.flatMap((node) =>
      node.multiaddrs.filter((a) => a.includes('/ws')).map((a) => (a.includes('/p2p/') ? a : `${a}/p2p/${node.peerId}`)),
    )
    const config = {
      metaUrls: file.metaUrls,
      relays,
      trustedMetas: file.metaAddresses ?? [],
      chainId: file.chainId ?? 31337,
      accountKey: file.devKey as `0x${string}`,
    }
    const tabs: Tab[] = []
    const b = browser
    const s = server
    return {
      net,
      browser: b,
      sinkUrl: `${s.url}sink`,
      httpUrls: file.nodes.map((n) => n.httpUrl),
      nodeIds: file.nodes.map((n) => n.peerId),
      async openTab(label) {
        const context = await b.newContext()
        const p = await context.newPage()
        const tab = { page: p, errors: collectPageErrors(p, label), refusals: watchRefusals(p), label }
        await p.goto(s.url)
        await p.waitForFunction(() => globalThis.bench !== undefined)
        await p.evaluate((c) => globalThis.bench.init(c), config)
        tabs.push(tab)
        return tab
      },
      async putPublic(name, size, replicas) {
        const { client, libp2p } = await net.client()
        try {
          const r = await client.put([{ path: name, content: random(size) }], { name, size, public: true, ...(replicas !== undefined && { replicas }) })
          await untilHoldersServe(net.devnet, r.root, r.holders)
          return r.root
        } finally {
          await libp2p.stop()
        }
      },
      async makePopular(root, requests = 8) {
        const { client, libp2p } = await net.client()
        try {
          for (let i = 0; i < requests; i++) await client.meta.post('providers', { root, consumer: client.address })
        } finally {
          await libp2p.stop()
        }
      },
      async stop() {
        for (const t of tabs) await t.page.evaluate(() => globalThis.bench.stop()).catch(() => {})
        await b.close()
        await s.close()
        await net.stop()
      },
    }
  } catch (err) {
    await browser?.close()
    await server?.close()
    await net.stop()
    throw err
  }
}

/** The POST baseline's server side: reads the body to the end, answers with its length. */
function sink(req: IncomingMessage, res: ServerResponse): void {
  let bytes = 0
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.byteLength
  })
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes })))
}

async function* random(size: number): AsyncGenerator<Uint8Array> {
  for (let left = size; left > 0; left -= MiB) yield randomBytes(Math.min(left, MiB))
}

/** Throws with the tabs' page errors if any tab logged one. */
export function assertNoPageErrors(tabs: Tab[]): void {
  const errors = tabs.flatMap((t) => t.errors.map((e) => `[${t.label}] ${e}`))
  if (errors.length > 0) throw new Error(`page errors:\n${errors.slice(0, 10).join('\n')}`)
}

/**
 * A figure from `alternate({ konbini, baseline })` samples in MB/s (or any rate where more is
 * better): Konbini ÷ baseline with the medians and every sample. Also logs it as one JSON line.
 */
export function rateFigure(
  name: string,
  r: { samples: Record<'konbini' | 'baseline', number[]>; medians: Record<'konbini' | 'baseline', number>; busyPct: number[] },
  figure: { goal: string; baseline: string; unit: string; size: number; runs: number; detail: Record<string, unknown> },
): Record<string, BenchResult> {
  const ratio = r.medians.konbini / r.medians.baseline
  log(
    `  ${JSON.stringify({ name, baseline: round(r.medians.baseline), konbini: round(r.medians.konbini), unit: figure.unit, ratio: round(ratio), goal: figure.goal, met: goalMet(ratio, figure.goal) })}`,
  )
  return {
    [name]: {
      ratio,
      goal: figure.goal,
      baseline: figure.baseline,
      detail: {
        unit: figure.unit,
        konbini: round(r.medians.konbini),
        baselineValue: round(r.medians.baseline),
        sizeMiB: figure.size / MiB,
        runs: figure.runs,
        machineBusyPctPerRound: r.busyPct,
        ...figure.detail,
        konbiniSamples: r.samples.konbini.map(round),
        baselineSamples: r.samples.baseline.map(round),
      },
    },
  }
}
