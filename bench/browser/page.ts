// The browser benchmarks' page: one tab running @konbini/browser-node (export condition `browser`)
// plus the baselines (plain fetch, a bare RTCDataChannel, WebCrypto digest), driven from the
// benches through `globalThis.bench`. Bundled with apps/web/e2e/harness `bundle`.
import {
  type BrowserKonbini,
  type BrowserKonbiniInit,
  type BrowserLibp2p,
  createBrowserKonbini,
  createBrowserLibp2p,
  type Donor,
  type DonorCaps,
  dialDirect,
  importToSink,
  MetaClient,
  openDownload,
  put,
} from '@konbini/browser-node'
import { BLOCKS_PROTOCOL, parseCid } from '@konbini/protocol'
import type { BenchPage, DownloadResult } from './api.ts'
import { patternBytes } from '../../apps/web/e2e/pages/pattern.ts'

let init: BrowserKonbiniInit | undefined
let konbini: BrowserKonbini | undefined
let meta: MetaClient | undefined
let dialer: Promise<BrowserLibp2p> | undefined
let donor: Donor | undefined
/** Bytes kept in the page between calls (generated untimed, then imported, hashed or uploaded). */
let held: Uint8Array | undefined

function config(): BrowserKonbiniInit {
  if (init === undefined) throw new Error('call bench.init first')
  return init
}

/** A dial-only light node for downloads, made once and kept (its WebRTC connections stay warm). */
function dialerNode(): Promise<BrowserLibp2p> {
  const node = dialer ?? createBrowserLibp2p({ relays: config().relays, listen: false })
  dialer = node
  return node
}

// the bare RTCDataChannel baseline: one connection per pair of tabs, signalled by the bench
let pc: RTCPeerConnection | undefined
let channel: RTCDataChannel | undefined
let receiving: Promise<number> | undefined
const RTC_MESSAGE = 64 * 1024

async function gathered(conn: RTCPeerConnection): Promise<RTCSessionDescriptionInit> {
  // no trickle: the description carries every candidate once gathering completes
  if (conn.iceGatheringState !== 'complete')
    await new Promise<void>((resolve) => conn.addEventListener('icegatheringstatechange', () => conn.iceGatheringState === 'complete' && resolve()))
  const d = conn.localDescription
  if (d === null) throw new Error('no local description')
  return { type: d.type, sdp: d.sdp }
}

function opened(dc: RTCDataChannel): Promise<RTCDataChannel> {
  dc.binaryType = 'arraybuffer'
  if (dc.readyState === 'open') return Promise.resolve(dc)
  return new Promise((resolve, reject) => {
    dc.addEventListener('open', () => resolve(dc), { once: true })
    dc.addEventListener('error', () => reject(new Error('data channel failed')), { once: true })
  })
}

export const bench: BenchPage = {
  async init(c: BrowserKonbiniInit): Promise<string> {
    init = c
    meta = new MetaClient({ urls: c.metaUrls })
    konbini = await createBrowserKonbini(c)
    await dialerNode()
    return konbini.address
  },

  /** A plain `fetch` of `url`, body read to the end and dropped. */
  async fetch(url: string): Promise<{ ms: number; bytes: number }> {
    const started = performance.now()
    const res = await fetch(url, { cache: 'no-store' })
    if (!res.ok || res.body === null) throw new Error(`GET ${url}: ${res.status}`)
    let bytes = 0
    const reader = res.body.getReader()
    for (let r = await reader.read(); !r.done; r = await reader.read()) bytes += r.value.byteLength
    return { ms: performance.now() - started, bytes }
  },

  /**
   * Downloads a file with the Konbini client as a tab does (`createBrowserKonbini().open`: full
   * nodes over HTTP, donor tabs over direct WebRTC, every block verified), optionally from `only`
   * these providers; the bytes are counted and dropped.
   */
  async download(root: string, only?: string[]): Promise<DownloadResult> {
    const started = performance.now()
    const node = await dialerNode()
    const streamErrors: string[] = []
    const download = await openDownload(meta as MetaClient, node, parseCid(root).toString(), {
      consumer: konbini?.address ?? '',
      lightPeers: true,
      ...(only !== undefined && { only }),
      openStream: async (endpoint, signal) => {
        const address = endpoint.multiaddrs.find((a) => a.includes('/webrtc'))
        if (address === undefined) throw new TypeError(`peer ${endpoint.peerId} has no WebRTC address`)
        try {
          const conn = await dialDirect(node, address, { signal })
          return await conn.newStream(BLOCKS_PROTOCOL, { signal })
        } catch (err) {
          streamErrors.push(`${endpoint.peerId.slice(-6)}: ${(err as Error).name}: ${(err as Error).message}`)
          throw err
        }
      },
    })
    // where the bytes came from, by the pool's own per-provider count: the root block arrives
    // inside openDownload, before the caller could learn the providers' kinds
    const kinds = new Map(download.providers.map((p) => [p.peerId, p.kind as string]))
    const priors = new Map(download.providers.map((p) => [p.peerId, p.throughputBps]))
    const { entry } = download
    if (entry.type !== 'file' && entry.type !== 'raw') throw new TypeError(`${root} is not a file`)
    let bytes = 0
    for await (const chunk of entry.content({ blockReadConcurrency: download.readAhead })) bytes += chunk.byteLength
    const ms = performance.now() - started
    const providers = download.pool.stats().map((p) => ({
      peerId: p.peerId,
      kind: kinds.get(p.peerId) ?? '?',
      bytes: p.bytes,
      blocks: p.blocks,
      failures: p.failures,
      dead: p.dead,
      priorBps: priors.get(p.peerId) ?? 0,
      asked: p.asked,
      cancelled: p.cancelled,
      duplicateBytes: p.duplicateBytes,
      firstByteMs: p.firstByteMs === undefined ? undefined : Math.round(p.firstByteMs),
      measuredBps: p.measuredBps,
    }))
    await download.finish()
    const sum = (kind: string) => providers.reduce((n, p) => n + (p.kind === kind ? p.bytes : 0), 0)
    return { ms, bytes, bytesFromPeers: sum('light'), bytesFromNodes: sum('full'), providers, streamErrors }
  },

  async donate(caps: Partial<DonorCaps> = {}): Promise<string> {
    donor = await (konbini as BrowserKonbini).startDonating({
      storageMiB: 1024,
      uploadKBps: 0,
      dailyMiB: 0,
      pauseWhenHidden: false,
      respectDataSaver: false,
      ...caps,
    })
    return donor.peerId
  },

  /** Resolves when the donor's cache holds `root` whole (the meta node assigns popular public roots). */
  async waitForCached(root: string, timeoutMs = 90_000): Promise<number> {
    const current = donor
    if (current === undefined) throw new Error('not donating')
    for (const deadline = Date.now() + timeoutMs; !current.holds(root); ) {
      if (Date.now() > deadline) throw new Error(`the donor never cached ${root}: ${JSON.stringify(current.stats())}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    return current.stats().servedBytes
  },

  servedBytes(): number {
    return donor?.stats().servedBytes ?? 0
  },

  /** Makes `size` fresh bytes and keeps them in the page (untimed). */
  hold(size: number, seed: number): number {
    held = patternBytes(size, seed)
    return held.byteLength
  },

  /** `crypto.subtle.digest('SHA-256')` over the held bytes, in one call. */
  async digest(): Promise<number> {
    const bytes = held as Uint8Array<ArrayBuffer>
    const started = performance.now()
    await crypto.subtle.digest('SHA-256', bytes)
    return performance.now() - started
  },

  /** The unixfs-v1-2025 import of the held bytes, fed in 1 MiB pieces, blocks dropped. */
  async import(): Promise<{ ms: number; root: string; blocks: number }> {
    const bytes = held as Uint8Array
    let blocks = 0
    const started = performance.now()
    const root = await importToSink([{ path: 'bench.bin', content: pieces(bytes, 1024 * 1024) }], () => {
      blocks++
    })
    return { ms: performance.now() - started, root: root.cid.toString(), blocks }
  },

  /** Uploads the held bytes as a `File` as `putFiles` does (HTTP parts), with `replicas`. */
  async upload(replicas: number, name: string): Promise<{ ms: number; holders: number; root: string }> {
    const file = new File([held as Uint8Array<ArrayBuffer>], name)
    const started = performance.now()
    const r = await put(meta as MetaClient, [{ path: name, content: fileChunks(file) }], {
      owner: konbini?.address ?? '',
      name,
      size: file.size,
      replicas,
      public: false,
      body: 'parts',
    })
    return { ms: performance.now() - started, holders: r.holders.length, root: r.root }
  },

  /** A plain `fetch` POST of the held bytes (as a `File`) to `url`. */
  async post(url: string): Promise<number> {
    const file = new File([held as Uint8Array<ArrayBuffer>], 'post.bin')
    const started = performance.now()
    const res = await fetch(url, { method: 'POST', body: file })
    await res.arrayBuffer()
    if (!res.ok) throw new Error(`POST ${url}: ${res.status}`)
    return performance.now() - started
  },

  /** Bare WebRTC, offering side: a new connection with one data channel; returns the offer. */
  async rtcOffer(): Promise<RTCSessionDescriptionInit> {
    pc = new RTCPeerConnection({ iceServers: [] })
    channel = pc.createDataChannel('bench', { ordered: true })
    await pc.setLocalDescription(await pc.createOffer())
    return gathered(pc)
  },

  /** Answering side: takes the offer, returns the answer; the channel opens on its own. */
  async rtcAnswer(offer: RTCSessionDescriptionInit): Promise<RTCSessionDescriptionInit> {
    pc = new RTCPeerConnection({ iceServers: [] })
    const conn = pc
    const incoming = new Promise<RTCDataChannel>((resolve) => conn.addEventListener('datachannel', (e) => resolve(e.channel), { once: true }))
    await pc.setRemoteDescription(offer)
    await pc.setLocalDescription(await pc.createAnswer())
    void incoming.then((dc) => {
      channel = dc
    })
    return gathered(pc)
  },

  /** Offering side: applies the answer and waits for the channel to open. */
  async rtcAccept(answer: RTCSessionDescriptionInit): Promise<void> {
    await (pc as RTCPeerConnection).setRemoteDescription(answer)
    await opened(channel as RTCDataChannel)
  },

  /** Receiving side: waits for the channel, then counts the next `total` bytes (resolve with `rtcReceived`). */
  async rtcExpect(total: number): Promise<void> {
    for (let i = 0; channel === undefined && i < 100; i++) await new Promise((r) => setTimeout(r, 50))
    const dc = await opened(channel as RTCDataChannel)
    receiving = new Promise((resolve) => {
      let got = 0
      const started = performance.now()
      const onMessage = (e: MessageEvent<ArrayBuffer>) => {
        got += e.data.byteLength
        if (got < total) return
        dc.removeEventListener('message', onMessage)
        resolve(performance.now() - started)
      }
      dc.addEventListener('message', onMessage)
    })
  },

  rtcReceived(): Promise<number> {
    if (receiving === undefined) throw new Error('call rtcExpect first')
    return receiving
  },

  /** Sending side: `total` bytes in 64 KiB messages, keeping the send buffer between 1 and 4 MiB. */
  async rtcSend(total: number): Promise<void> {
    const dc = channel as RTCDataChannel
    const data = patternBytes(RTC_MESSAGE, 7)
    dc.bufferedAmountLowThreshold = 1024 * 1024
    for (let sent = 0; sent < total; sent += RTC_MESSAGE) {
      if (dc.bufferedAmount > 4 * 1024 * 1024) await new Promise<void>((resolve) => dc.addEventListener('bufferedamountlow', () => resolve(), { once: true }))
      dc.send(sent + RTC_MESSAGE <= total ? data : data.subarray(0, total - sent))
    }
  },

  async stop(): Promise<void> {
    channel?.close()
    pc?.close()
    await konbini?.stop()
    if (dialer) await (await dialer).stop()
  },
}

function* pieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let at = 0; at < bytes.byteLength; at += size) yield bytes.subarray(at, at + size)
}

async function* fileChunks(file: Blob): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < file.size; at += 1024 * 1024) yield new Uint8Array(await file.slice(at, at + 1024 * 1024).arrayBuffer())
}

;(globalThis as unknown as { bench: BenchPage }).bench = bench
