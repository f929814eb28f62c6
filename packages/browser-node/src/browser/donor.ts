import { type HeartbeatResponse, type HoldingChallenge, type HoldingProof, holdingProofDigest } from '@konbini/protocol'
import { CID } from 'multiformats/cid'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import type { LocalAccount } from 'viem/accounts'
import { type HeartbeatBody, signHeartbeat, signLeave } from '../node-statements.ts'
import type { MetaClient } from '../meta-client.ts'
import { serveBlockExchange } from '../serve/block-exchange.ts'
import { ByteRateLimiter } from '../serve/byte-rate-limiter.ts'
import { DownloadTickets } from '../serve/download-tickets.ts'
import { forwardReceipts, type ReceiptForwarder } from '../serve/receipt-forwarder.ts'

/** How often a donor tab hands its served receipts to the meta node. */
const RECEIPT_FORWARD_MS = 2000
import type { BlockCache } from './block-cache.ts'
import { fillCache } from './cache-filler.ts'
import type { DailyLedger } from './daily-ledger.ts'
import { DonorCapReachedError, DonorPausedError } from './errors.ts'
import { isDirect } from './libp2p.ts'
import { type PausePolicy, PauseMonitor } from './pause-monitor.ts'

/** The limits a donating user sets. */
export interface DonorCaps extends PausePolicy {
  storageMiB: number
  /** Upload rate cap in KiB/s (0 = no cap). */
  uploadKBps: number
  /** Bytes per rolling 24 h, in MiB (0 = no cap). */
  dailyMiB: number
}

export interface DonorStats {
  state: 'starting' | 'serving' | 'paused' | 'stopped'
  pauseReason?: string
  peerId: string
  /** Bytes served since donation started. */
  servedBytes: number
  servedBytes24h: number
  /** Peers connected directly (WebRTC) now. */
  peers: number
  cachedBytes: number
  cachedRoots: number
  /** The address other tabs dial (relay circuit, then WebRTC). */
  addresses: string[]
}

export interface DonorInit {
  meta: MetaClient
  /** A started, listening light node (relay reservation made). */
  libp2p: Libp2p
  peerKey: PrivateKey
  operator: LocalAccount
  cache: BlockCache
  ledger: DailyLedger
  caps: DonorCaps
  trustedMetas: readonly string[]
  chainId: number
  region?: string
  heartbeatMs?: number
}

/**
 * A relay-circuit WebRTC address another tab can dial: the relay leg must be WebSockets (a page
 * cannot open TCP), e.g. `/ip4/…/tcp/7301/ws/p2p/<relay>/p2p-circuit/webrtc/p2p/<self>`.
 */
export function isTabDialable(address: string): boolean {
  const [relayLeg] = address.split('/p2p-circuit')
  return address.includes('/p2p-circuit/webrtc') && relayLeg !== undefined && /\/(ws|wss|tls\/ws)(\/|$)/.test(relayLeg)
}

const MiB = 1024 * 1024
/** Whole bytes of a (possibly fractional) MiB figure. */
const mib = (value: number) => Math.floor(value * MiB)

/**
 * A donating tab: serves cached public blocks over direct WebRTC connections under meta tickets,
 * within the user's caps, announces itself to the meta node, and caches what the meta node asks
 * for (most requested first). Dispatches `update` when its numbers change.
 */
export class Donor extends EventTarget {
  private readonly init: DonorInit
  private readonly egress: ByteRateLimiter
  private readonly pause: PauseMonitor
  private state: DonorStats['state'] = 'starting'
  private servedBytes = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private filling: Promise<void> | undefined
  /** Answers to the meta node's last spot checks, sent with the next heartbeat. */
  private proofs: HoldingProof[] = []
  private updateQueued = false
  private readonly fills = new AbortController()
  private receipts: ReceiptForwarder | undefined

  constructor(init: DonorInit) {
    super()
    this.init = init
    this.egress = new ByteRateLimiter(Math.floor(init.caps.uploadKBps * 1024))
    this.pause = new PauseMonitor(init.caps, () => {
      this.update()
      void this.heartbeat()
    })
  }

  get peerId(): string {
    return this.init.libp2p.peerId.toString()
  }

  async start(): Promise<void> {
    const { libp2p, ledger } = this.init
    await this.pause.start()
    const tickets = new DownloadTickets({
      trustedMetas: this.init.trustedMetas.map((a) => a.toLowerCase()),
      chainId: this.init.chainId,
      peerId: this.peerId,
      blocks: this.init.cache,
    })
    // what the tab earns counts once a meta node has its receipts (the viewer hands them in too)
    this.receipts = forwardReceipts({
      tickets,
      intervalMs: RECEIPT_FORWARD_MS,
      post: (receipts) => this.init.meta.post('receipts', { receipts }),
    })
    await serveBlockExchange({
      libp2p,
      blocks: this.init.cache,
      egress: this.egress,
      tickets,
      // bulk bytes only on direct WebRTC connections, never through the relay's limited circuit
      runOnLimitedConnection: false,
      beforeSend: (_cid, bytes) => {
        const reason = this.pause.reason()
        if (reason !== undefined) throw new DonorPausedError({ reason })
        const cap = mib(this.init.caps.dailyMiB)
        if (!ledger.tryReserve(bytes, cap)) throw new DonorCapReachedError({ cap })
      },
      onServed: (bytes) => {
        this.servedBytes += bytes
        this.update()
      },
    })
    for (const event of ['connection:open', 'connection:close'] as const) libp2p.addEventListener(event, () => this.update())
    this.state = 'serving'
    await this.heartbeat()
    this.update()
  }

  /** Applies new caps at once (rate, daily bytes, storage, pause policy) and tells the meta node. */
  setCaps(caps: DonorCaps): void {
    this.init.caps = caps
    this.egress.setRate(Math.floor(caps.uploadKBps * 1024))
    this.pause.setPolicy(caps)
    this.update()
    void this.heartbeat()
  }

  /** Whether the cache holds every block of `root` (and announces it). */
  holds(root: string): boolean {
    return this.init.cache.has(root)
  }

  stats(): DonorStats {
    const reason = this.reason()
    return {
      state: this.state === 'serving' && reason !== undefined ? 'paused' : this.state,
      ...(reason !== undefined && { pauseReason: reason }),
      peerId: this.peerId,
      servedBytes: this.servedBytes,
      servedBytes24h: this.init.ledger.last24h(),
      peers: this.state === 'stopped' ? 0 : this.init.libp2p.getConnections().filter(isDirect).length,
      cachedBytes: this.init.cache.usedBytes,
      cachedRoots: this.init.cache.roots().length,
      addresses: this.addresses(),
    }
  }

  /** Stops serving and announcing, tells the meta node, and shuts the light node down. The cache stays on disk. */
  async stop(): Promise<void> {
    await this.receipts?.stop().catch(() => {})
    if (this.state === 'stopped') return
    this.state = 'stopped'
    clearTimeout(this.timer)
    this.pause.stop()
    this.fills.abort()
    await this.filling?.catch(() => {})
    await this.init.meta.post('leave', await signLeave({ account: this.init.operator, peerId: this.peerId, chainId: this.init.chainId })).catch(() => {})
    await this.init.libp2p.stop()
    this.update()
  }

  private get stopped(): boolean {
    return this.state === 'stopped'
  }

  private reason(): string | undefined {
    const pause = this.pause.reason()
    if (pause !== undefined) return pause
    const cap = mib(this.init.caps.dailyMiB)
    if (cap > 0 && this.init.ledger.last24h() >= cap) return 'the daily cap is spent'
    return undefined
  }

  private addresses(): string[] {
    if (this.state === 'stopped') return []
    return this.init.libp2p.getMultiaddrs().map(String).filter(isTabDialable)
  }

  /** One heartbeat now (after a cache fill too): its answer's denylist applies at once, its assignments once no fill runs. */
  private async announce(): Promise<void> {
    if (this.stopped) return
    try {
      await this.apply(await this.init.meta.post('heartbeat', await this.signedHeartbeat()))
    } catch {
      // the meta node is unreachable or refused: keep serving what we hold, try again later
    }
  }

  /** The timed heartbeat: announces, then schedules the next one. */
  private async heartbeat(): Promise<void> {
    if (this.stopped) return
    clearTimeout(this.timer)
    await this.announce()
    if (!this.stopped) this.timer = setTimeout(() => void this.heartbeat(), this.init.heartbeatMs ?? 5000)
  }

  /** Proofs of holding for the spot checks this tab can answer (a block it no longer has is left unanswered). */
  private async prove(checks: readonly HoldingChallenge[]): Promise<HoldingProof[]> {
    const proofs: HoldingProof[] = []
    for (const check of checks) {
      const bytes = await this.init.cache.getBytes(CID.parse(check.cid)).catch(() => undefined)
      if (bytes !== undefined) proofs.push({ ...check, digest: await holdingProofDigest(check.nonce, bytes) })
    }
    return proofs
  }

  private async signedHeartbeat() {
    const { caps, cache, operator } = this.init
    const reason = this.reason()
    const body: HeartbeatBody = {
      peerId: this.peerId,
      multiaddrs: this.addresses(),
      kind: 'light',
      region: this.init.region ?? 'local',
      capacityBytes: mib(caps.storageMiB),
      usedBytes: cache.usedBytes,
      egressCapBps: Math.floor(caps.uploadKBps * 1024),
      activeTransfers: 0,
      trustedMetas: this.init.trustedMetas.map((a) => a.toLowerCase()),
      holds: cache.roots(),
      ...(this.proofs.length > 0 && { proofs: this.proofs }),
      donor: {
        storageCapBytes: mib(caps.storageMiB),
        uploadCapBps: Math.floor(caps.uploadKBps * 1024),
        dailyCapBytes: mib(caps.dailyMiB),
        servedBytes24h: this.init.ledger.last24h(),
        paused: reason !== undefined,
      },
    }
    return signHeartbeat({ account: operator, privateKey: this.init.peerKey, body, chainId: this.init.chainId })
  }

  /** Answers the meta node's spot checks (sent with the next heartbeat), drops denied roots, then fills the cache with assignments that fit, one at a time in the background. */
  private async apply(answer: HeartbeatResponse): Promise<void> {
    const { cache, caps } = this.init
    this.proofs = await this.prove(answer.proofs ?? [])
    if (this.proofs.length > 0) void this.announce()
    if (answer.denylist?.length) await cache.applyDenylist(answer.denylist)
    if (this.filling !== undefined || !answer.cache?.length) return
    const todo = answer.cache.filter((a) => !cache.has(a.root) && !cache.isDenied(a.root))
    this.filling = (async () => {
      for (const assignment of todo) {
        if (cache.usedBytes + assignment.size > mib(caps.storageMiB)) continue
        const filled = await fillCache({ ...this.init, assignment, consumer: this.init.operator.address, signal: this.fills.signal }).then(
          () => true,
          () => false,
        )
        this.update()
        // announce each root as soon as it is held: viewers can use this tab from the next providers request
        if (filled) await this.announce()
      }
    })().finally(() => {
      this.filling = undefined
    })
  }

  /** Coalesces `update` events to one per animation-ish tick. */
  private update(): void {
    if (this.updateQueued) return
    this.updateQueued = true
    setTimeout(() => {
      this.updateQueued = false
      this.dispatchEvent(new Event('update'))
    }, 100)
  }
}
