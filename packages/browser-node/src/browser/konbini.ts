import { BLOCKS_PROTOCOL, DEVNET_CHAIN_ID, type FileRecord, type NodeInfo, parseCid } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import type { ImportCandidate } from 'ipfs-unixfs-importer'
import { privateKeyToAccount } from 'viem/accounts'
import { openDownload } from '../download.ts'
import { MetaClient } from '../meta-client.ts'
import { signOwnerRequest } from '../owner.ts'
import { put } from '../upload.ts'
import { BlockCache } from './block-cache.ts'
import { DailyLedger } from './daily-ledger.ts'
import { Donor, type DonorCaps, isTabDialable } from './donor.ts'
import { type BrowserDownload, toBrowserDownload } from './browser-download.ts'
import { openDatabase } from './idb.ts'
import { loadDonorKeys } from './keys.ts'
import { createBrowserLibp2p, dialDirect, isDirect } from './libp2p.ts'

export interface BrowserKonbiniInit {
  metaUrls: string[]
  /** Relay WebSocket multiaddrs (`…/ws/p2p/<relay>`). */
  relays: string[]
  /** Meta addresses whose tickets this tab accepts when donating. */
  trustedMetas: string[]
  chainId?: number
  /**
   * A key to sign with (tests). Default, and what the portal uses: this browser's own key, made on
   * first use and kept in IndexedDB — the same key a donor tab earns with. A wallet authorizes it
   * once (`SessionGrant`); it then spends the wallet's credit and acts for the wallet's files. No
   * private key ever comes from a server.
   */
  accountKey?: `0x${string}`
  /** ICE servers for WebRTC; default none (closed networks). */
  rtcConfiguration?: RTCConfiguration
  /** IndexedDB database of the donor cache (default `konbini`). */
  databaseName?: string
}

export interface UploadProgress {
  phase: 'importing' | 'uploading' | 'replicating' | 'done'
  sentBytes: number
  totalBytes: number
  holders: number
  replicas: number
}

export interface PutFilesOptions {
  name: string
  public?: boolean
  onProgress?: (progress: UploadProgress) => void
  signal?: AbortSignal
}

/** Bytes per read of a `File`: the unixfs-v1-2025 chunk size, so the importer gets whole chunks. */
const CHUNK = 1024 * 1024
const REPLICAS = 3

/**
 * Konbini in a browser tab: upload files (imported and hashed in the tab, sent in parts over
 * HTTP under the ticket), download from full nodes (HTTP) and donor tabs (WebRTC) at once, list
 * and remove the user's files, and donate bandwidth.
 *
 * @example
 * const konbini = await createBrowserKonbini({ metaUrls, relays, trustedMetas, accountKey })
 * const { root } = await konbini.putFiles([{ path: file.name, file }], { name: file.name, onProgress })
 */
export async function createBrowserKonbini(init: BrowserKonbiniInit) {
  const meta = new MetaClient({ urls: init.metaUrls })
  const account = init.accountKey ? privateKeyToAccount(init.accountKey) : (await loadDonorKeys(await openDatabase(init.databaseName ?? 'konbini'))).operator
  const chainId = init.chainId ?? DEVNET_CHAIN_ID
  let dialer: Promise<Libp2p> | undefined
  let dialerNode: Libp2p | undefined
  // a dial-only light node, made by `warm()` or the first download
  const libp2p = () => {
    dialer ??= createBrowserLibp2p({ relays: init.relays, listen: false, ...(init.rtcConfiguration && { rtcConfiguration: init.rtcConfiguration }) }).then(
      (node) => {
        dialerNode = node
        return node
      },
      (err: unknown) => {
        // the next download tries again
        dialer = undefined
        throw err
      },
    )
    return dialer
  }
  let donor: Donor | undefined

  return {
    address: account.address,

    async putFiles(files: ReadonlyArray<{ path: string; file: File }>, options: PutFilesOptions) {
      const totalBytes = files.reduce((n, f) => n + f.file.size, 0)
      const progress = (phase: UploadProgress['phase'], sentBytes: number, holders = 0) =>
        options.onProgress?.({ phase, sentBytes, totalBytes, holders, replicas: REPLICAS })
      progress('importing', 0)
      const result = await put(meta, fileCandidates(files), {
        owner: account.address,
        signer: account,
        chainId,
        name: options.name,
        size: totalBytes,
        replicas: REPLICAS,
        public: options.public ?? false,
        body: 'parts',
        onProgress: (sent) => progress(sent >= totalBytes ? 'replicating' : 'uploading', sent),
        ...(options.signal && { signal: options.signal }),
      })
      progress('done', totalBytes, result.holders.length)
      return { root: result.root, holders: result.holders }
    },

    /**
     * Opens a file or folder for reading; light peers are dialed only if the meta node lists some.
     * `only` limits the download to these providers (peer ids), e.g. donor tabs alone in a test.
     */
    async open(root: string, options: { only?: readonly string[] } = {}): Promise<BrowserDownload> {
      const cid = parseCid(root).toString()
      const kinds = new Map<string, 'full' | 'light'>()
      const counters = { peers: 0, nodes: 0, peerIds: new Set<string>() }
      const node = await libp2p()
      const download = await openDownload(meta, node, cid, {
        consumer: account.address,
        signer: account,
        chainId,
        lightPeers: true,
        ...(options.only !== undefined && { only: options.only }),
        openStream: async (endpoint, signal) => {
          const addresses = endpoint.multiaddrs.filter(isTabDialable)
          if (addresses.length === 0) throw new TypeError(`peer ${endpoint.peerId} has no address a tab can dial`)
          let lastError: unknown
          for (const address of addresses) {
            try {
              // good dials take well under a second on a quiet machine: a short first attempt
              // retries a hung one early; later ones get longer (2, 4, 8 s) for a loaded machine.
              // The download does not wait on it: other providers serve meanwhile.
              const conn = await dialDirect(node, address, { signal, attempts: 3, attemptTimeoutMs: 2000 })
              return await conn.newStream(BLOCKS_PROTOCOL, { signal })
            } catch (err) {
              if (signal.aborted) throw err
              lastError = err
            }
          }
          throw lastError
        },
        onProviders: (providers) => {
          for (const p of providers) kinds.set(p.peerId, p.kind)
        },
        onBlock: (bytes, provider) => {
          if (kinds.get(provider) === 'light') {
            counters.peers += bytes
            counters.peerIds.add(provider)
          } else counters.nodes += bytes
        },
      })
      return toBrowserDownload(download, counters)
    },

    /**
     * Starts this tab's download node and its relay connections now (idempotent), so that the
     * first Save or Preview does not wait for them: a page that will download calls it once it
     * has shown its list. Best effort: a failure here is met again, and reported, by `open`.
     */
    warm(): void {
      libp2p().catch(() => {})
    },

    /** This tab's download connections now: which peer, over what, and whether direct (WebRTC, unlimited). */
    connections(): Array<{ peer: string; multiplexer: string | undefined; limited: boolean; direct: boolean }> {
      return (dialerNode?.getConnections() ?? []).map((c) => ({
        peer: c.remotePeer.toString(),
        multiplexer: c.multiplexer,
        limited: c.limits != null,
        direct: isDirect(c),
      }))
    },

    /** The wallet that authorized this browser's key (its grant is valid now), if any. */
    async wallet(): Promise<string | undefined> {
      return (await meta.get('grantOf', { sessionKey: account.address })).grant?.grant.wallet
    },

    /** This key's files, and its wallet's when a wallet authorized it (newest first). */
    async ls(): Promise<FileRecord[]> {
      const wallet = await this.wallet()
      const owners = [account.address, ...(wallet !== undefined && wallet.toLowerCase() !== account.address.toLowerCase() ? [wallet] : [])]
      const lists = await Promise.all(owners.map(async (owner) => (await meta.post('ls', await signOwnerRequest(account, 'ls', '', chainId, owner))).files))
      // a root pinned by both is listed once (its row removes this key's pin first)
      const byRoot = new Map<string, FileRecord>()
      for (const file of lists.flat()) if (!byRoot.has(file.root)) byRoot.set(file.root, file)
      return [...byRoot.values()].sort((a, b) => b.createdAt - a.createdAt)
    },
    /** Drops the pin of `owner` (default: this key) on `root`. */
    async rm(root: string, owner: string = account.address): Promise<string> {
      return (await meta.post('rm', await signOwnerRequest(account, 'rm', parseCid(root).toString(), chainId, owner))).removed
    },
    async nodes(): Promise<NodeInfo[]> {
      return (await meta.get('nodes')).nodes
    },

    /** Starts donating: a listening light node with a relay slot, serving the IndexedDB cache within `caps`. */
    async startDonating(caps: DonorCaps): Promise<Donor> {
      if (donor !== undefined && donor.stats().state !== 'stopped') return donor
      const db = await openDatabase(init.databaseName ?? 'konbini')
      const [keys, cache, ledger] = await Promise.all([loadDonorKeys(db), BlockCache.open(db), DailyLedger.open(db)])
      const node = await createBrowserLibp2p({
        relays: init.relays,
        listen: true,
        privateKey: keys.peerKey,
        ...(init.rtcConfiguration && { rtcConfiguration: init.rtcConfiguration }),
      })
      donor = new Donor({ meta, libp2p: node, ...keys, cache, ledger, caps, trustedMetas: init.trustedMetas, chainId })
      try {
        await donor.start()
      } catch (err) {
        await donor.stop().catch(() => {})
        throw err
      }
      return donor
    },

    /** Stops donating and closes every connection this tab opened. */
    async stop(): Promise<void> {
      await donor?.stop()
      if (dialer) await (await dialer).stop()
      dialer = undefined
      dialerNode = undefined
    },
  }
}

export type BrowserKonbini = Awaited<ReturnType<typeof createBrowserKonbini>>

/** Import candidates for files (paths relative to the upload's root), read in whole chunks. */
function* fileCandidates(files: ReadonlyArray<{ path: string; file: File }>): Generator<ImportCandidate> {
  for (const { path, file } of files) yield { path, content: fileChunks(file) }
}

async function* fileChunks(file: Blob): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < file.size; at += CHUNK) yield new Uint8Array(await file.slice(at, at + CHUNK).arrayBuffer())
}
