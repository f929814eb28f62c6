// A test page: one browser tab running @konbini/browser-node (export condition `browser`), driven
// from the e2e tests through `window.tab`.
import { type BrowserKonbini, type BrowserKonbiniInit, createBrowserKonbini, type Donor, type DonorCaps, type UploadProgress } from '@konbini/browser-node'
import { sha256 } from '@noble/hashes/sha2.js'
import { patternBytes } from './pattern.ts'

let konbini: BrowserKonbini | undefined
let donor: Donor | undefined
let running: Promise<DownloadResult> | undefined
type EnvironmentChange = { charging?: boolean; saveData?: boolean; hidden?: boolean }
let environment: ((change: EnvironmentChange) => void) | undefined
let live = { bytes: 0, bytesFromPeers: 0, bytesFromNodes: 0, peers: 0, byProvider: {} as Record<string, number> }

/** Every connection seen during the download (a closed one stays listed). */
function mergeConnections(seen: DownloadResult['connections'], now: DownloadResult['connections']): DownloadResult['connections'] {
  const merged = new Map(seen.map((c) => [`${c.peer}${c.multiplexer}${c.limited}`, c]))
  for (const c of now) merged.set(`${c.peer}${c.multiplexer}${c.limited}`, c)
  return [...merged.values()]
}

function client(): BrowserKonbini {
  if (konbini === undefined) throw new Error('call tab.init first')
  return konbini
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

export interface DownloadResult {
  bytes: number
  sha256: string
  bytesFromPeers: number
  bytesFromNodes: number
  peers: number
  /** Connections to peers while the download ran, as libp2p saw them. */
  connections: Array<{ peer: string; multiplexer: string | undefined; limited: boolean; direct: boolean }>
  providers: Array<{
    peerId: string
    kind: 'full' | 'light'
    bytes: number
    duplicateBytes: number
    busyMs: number
    failures: number
    firstByteMs: number | undefined
    measuredMBps: number | undefined
    dead: boolean
    asked: number
    cancelled: number
  }>
  /** Milliseconds from open to the last byte. */
  ms: number
}

export const tab = {
  async init(config: BrowserKonbiniInit): Promise<string> {
    konbini = await createBrowserKonbini(config)
    return konbini.address
  },

  async donate(caps: DonorCaps) {
    donor = await client().startDonating(caps)
    return donor.stats()
  },

  /**
   * Replaces what the donor reads about its environment (battery, data-saver, visibility) with
   * values the test sets: headless Chromium is always charging, never saving data, never hidden.
   * Call before `donate`.
   */
  stubEnvironment() {
    const battery = Object.assign(new EventTarget(), { charging: true })
    const connection = Object.assign(new EventTarget(), { saveData: false })
    let hidden = false
    Object.defineProperty(navigator, 'getBattery', { value: async () => battery, configurable: true })
    Object.defineProperty(navigator, 'connection', { value: connection, configurable: true })
    Object.defineProperty(document, 'visibilityState', { get: () => (hidden ? 'hidden' : 'visible'), configurable: true })
    environment = (change) => {
      if (change.charging !== undefined && change.charging !== battery.charging) {
        battery.charging = change.charging
        battery.dispatchEvent(new Event('chargingchange'))
      }
      if (change.saveData !== undefined && change.saveData !== connection.saveData) {
        connection.saveData = change.saveData
        connection.dispatchEvent(new Event('change'))
      }
      if (change.hidden !== undefined && change.hidden !== hidden) {
        hidden = change.hidden
        document.dispatchEvent(new Event('visibilitychange'))
      }
    }
  },

  setEnvironment(change: EnvironmentChange) {
    if (environment === undefined) throw new Error('call tab.stubEnvironment before donating')
    environment(change)
    return donor?.stats()
  },

  setCaps(caps: DonorCaps) {
    donor?.setCaps(caps)
    return donor?.stats()
  },

  donorStats() {
    return donor?.stats()
  },

  /** Resolves when the donor's stats satisfy a condition (polling on its update events). */
  waitForDonor(field: 'cachedRoots' | 'servedBytes', atLeast: number, timeoutMs = 60_000) {
    const current = donor
    if (current === undefined) throw new Error('not donating')
    return new Promise<ReturnType<Donor['stats']>>((resolve, reject) => {
      const check = () => {
        const stats = current.stats()
        if (stats[field] >= atLeast) {
          current.removeEventListener('update', check)
          clearTimeout(timer)
          resolve(stats)
        }
      }
      const timer = setTimeout(() => {
        current.removeEventListener('update', check)
        reject(new Error(`donor ${field} stayed below ${atLeast}: ${JSON.stringify(current.stats())}`))
      }, timeoutMs)
      current.addEventListener('update', check)
      check()
    })
  },

  donorHolds(root: string): boolean | undefined {
    return donor?.holds(root)
  },

  /** Resolves when the donor's cache holds `root` whole. */
  async waitForCached(root: string, timeoutMs = 90_000) {
    const current = donor
    if (current === undefined) throw new Error('not donating')
    for (const deadline = Date.now() + timeoutMs; !current.holds(root); ) {
      if (Date.now() > deadline) throw new Error(`the donor never cached ${root}: ${JSON.stringify(current.stats())}`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
    return current.stats()
  },

  async stopDonating() {
    await donor?.stop()
    return donor?.stats()
  },

  /** Uploads `size` pattern bytes as one file; returns the root, holders and the progress seen. */
  async upload(size: number, seed: number, name: string, isPublic = false) {
    const file = new File([patternBytes(size, seed) as Uint8Array<ArrayBuffer>], name)
    const progress: UploadProgress[] = []
    const result = await client().putFiles([{ path: name, file }], { name, public: isPublic, onProgress: (p) => progress.push(p) })
    return { ...result, progress: progress.filter((p, i) => i === 0 || i === progress.length - 1 || p.phase !== progress[i - 1]?.phase), last: progress.at(-1) }
  },

  /** Starts downloading a file in the background, hashing it as it streams. */
  startDownload(root: string, only?: string[]): void {
    live = { bytes: 0, bytesFromPeers: 0, bytesFromNodes: 0, peers: 0, byProvider: {} }
    running = (async () => {
      const started = performance.now()
      const download = await client().open(root, only ? { only } : {})
      const hash = sha256.create()
      let bytes = 0
      let connections: DownloadResult['connections'] = []
      for await (const chunk of download.read()) {
        hash.update(chunk)
        bytes += chunk.byteLength
        live = { bytes, ...download.stats(), byProvider: Object.fromEntries(download.providerStats().map((p) => [p.peerId, p.bytes])) }
        connections = mergeConnections(connections, client().connections())
      }
      await download.finish()
      const providers = download.providerStats().map((p) => ({
        peerId: p.peerId,
        kind: p.kind,
        bytes: p.bytes,
        duplicateBytes: p.duplicateBytes,
        busyMs: Math.round(p.busyMs),
        failures: p.failures,
        firstByteMs: p.firstByteMs === undefined ? undefined : Math.round(p.firstByteMs),
        measuredMBps: p.measuredBps === undefined ? undefined : Math.round(p.measuredBps / 1e5) / 10,
        dead: p.dead,
        asked: p.asked,
        cancelled: p.cancelled,
      }))
      return { bytes, sha256: hex(hash.digest()), ...download.stats(), connections, providers, ms: Math.round(performance.now() - started) }
    })()
    running.catch(() => {})
  },

  /** Bytes so far and where they came from. */
  downloadProgress() {
    return live
  },

  finishDownload(): Promise<DownloadResult> {
    if (running === undefined) throw new Error('no download running')
    return running
  },

  async download(root: string): Promise<DownloadResult> {
    tab.startDownload(root)
    return tab.finishDownload()
  },

  async stop() {
    await donor?.stop()
    await konbini?.stop()
  },
}

;(globalThis as unknown as { tab: typeof tab }).tab = tab
