import type { FileRecord, NodeInfo } from '@konbini/protocol'

// The browser client's contract (export condition `browser` of `@konbini/browser-node`), repeated
// here so the portal type-checks against it whichever build of the package tsc resolves.

/** What a page needs to start a client in the tab; built on the server by `loadPageConfig`. */
export interface BrowserKonbiniInit {
  metaUrls: string[]
  /** Relay WebSocket multiaddrs. */
  relays: string[]
  trustedMetas: string[]
  chainId?: number
  /** Devnet only: the dev user's key, handed to the tab so it can sign as that user. */
  accountKey: `0x${string}`
}

export interface UploadProgress {
  phase: 'importing' | 'uploading' | 'replicating' | 'done'
  sentBytes: number
  totalBytes: number
  holders: number
  replicas: number
}

export interface BrowserDownload {
  size: number
  type: 'file' | 'directory'
  entries?: { name: string; cid: string; size: number }[]
  read(range?: { offset: number; length?: number }, signal?: AbortSignal): AsyncIterable<Uint8Array>
  stats(): { bytesFromPeers: number; bytesFromNodes: number; peers: number }
  finish(): Promise<void>
}

export interface DonorCaps {
  storageMiB: number
  uploadKBps: number
  dailyMiB: number
  pauseWhenHidden: boolean
  respectDataSaver: boolean
}

export interface DonorStats {
  state: 'starting' | 'serving' | 'paused' | 'stopped'
  pauseReason?: string
  peerId: string
  servedBytes: number
  servedBytes24h: number
  peers: number
  cachedBytes: number
  cachedRoots: number
}

export interface Donor extends EventTarget {
  stats(): DonorStats
  stop(): Promise<void>
}

export interface BrowserKonbini {
  address: string
  putFiles(
    files: { path: string; file: File }[],
    options: { name: string; public?: boolean; onProgress?: (p: UploadProgress) => void; signal?: AbortSignal },
  ): Promise<{ root: string; holders: string[] }>
  open(root: string): Promise<BrowserDownload>
  ls(): Promise<FileRecord[]>
  rm(root: string): Promise<string>
  nodes(): Promise<NodeInfo[]>
  startDonating(caps: DonorCaps): Promise<Donor>
  stop(): Promise<void>
}

type Module = { createBrowserKonbini?: (init: BrowserKonbiniInit) => Promise<BrowserKonbini> }

let shared: { key: string; client: Promise<BrowserKonbini> } | undefined

/**
 * The tab's one Konbini client, started on first use (the library is loaded then, after first
 * paint) and kept across page navigations so a donor keeps serving. A failed start is forgotten,
 * so the next call retries.
 * @example const konbini = await getBrowserKonbini(config)
 */
export function getBrowserKonbini(init: BrowserKonbiniInit): Promise<BrowserKonbini> {
  const key = JSON.stringify(init)
  if (shared?.key === key) return shared.client
  const previous = shared?.client
  const client = (async () => {
    await previous?.then((c) => c.stop()).catch(() => {})
    const mod = (await import('@konbini/browser-node')) as unknown as Module
    if (typeof mod.createBrowserKonbini !== 'function') throw new ClientUnavailableError()
    return mod.createBrowserKonbini(init)
  })()
  shared = { key, client }
  client.catch(() => {
    if (shared?.client === client) shared = undefined
  })
  return client
}

/** The browser build of `@konbini/browser-node` has no `createBrowserKonbini`. */
export class ClientUnavailableError extends Error {
  override name = 'ClientUnavailableError'
  constructor() {
    super('This build of the portal has no browser client; it cannot upload or download from this tab.')
  }
}
