import {
  DownloadStalledError,
  type NodeEndpoint,
  NoProvidersError,
  ProviderFailedError,
  type SignedDownloadTicket,
  type TransferReport,
  verifyBlock,
} from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { BlockSession, type OpenStream } from './block-session.ts'
import type { BlockSource } from './block-source.ts'
import { HttpBlockSession } from './http-block-session.ts'
import { type Outlook, PlacementPolicy } from './placement-policy.ts'
import { Provider, type ProviderStats } from './provider.ts'
import type { ReceiptSigner } from './receipt-signer.ts'
import { type TicketGrant, TicketLease } from './ticket-lease.ts'
import { BLOCK_MS_PRIOR, HEDGE_FACTOR, HEDGE_SLACK_MS, IDLE_TIMEOUT_MS, MAX_ATTEMPTS, MOVE_FACTOR, MOVE_SLACK_MS, TICK_MS } from './scheduling.ts'
import type { PoolAttempt, Want } from './want.ts'

export interface ProviderPoolInit {
  libp2p: Libp2p
  ticket: SignedDownloadTicket
  /** The providers, as the meta node ranked them; `kind` says full node or light peer (default: full when it has an HTTP URL). */
  providers: ReadonlyArray<NodeEndpoint & { kind?: 'full' | 'light'; egressCapBps?: number }>
  /** With wants pending and no block from any provider for this long (ms), the download fails. */
  idleTimeoutMs?: number
  /**
   * How to reach providers: `auto` (default) uses HTTP for a provider with an HTTP URL (full nodes:
   * no Noise in the way of bulk bytes) and libp2p otherwise; the others force one path.
   */
  transport?: 'auto' | 'http' | 'libp2p'
  onBlock?: (bytes: number, provider: string) => void
  /** How to open a libp2p block stream when a plain dial is not enough (light peers: a direct WebRTC connection). */
  openStream?: OpenStream
  /** Signs the consumer's receipts for a paid ticket. */
  receipts?: ReceiptSigner
  /** Asks the meta node for a new ticket (and its receipt signer) when this one nears its expiry; without it the download ends with the ticket. */
  renewTicket?: () => Promise<TicketGrant>
}

/**
 * Fetches blocks from several providers at once and learns, within the download, how fast each
 * one is. Wants wait in the order asked; each goes to the provider that would deliver it soonest
 * counting the work already queued there — a donor tab whenever it would deliver it no later
 * than the full nodes alone would — and only while that provider has room in its window: a few
 * wants until it has shown a rate, then as many as keep its pipe full. A want
 * queued behind others at a slow provider moves to a faster one; a want a silent provider is
 * sending is also asked of a faster one, and the loser is cancelled before it sends. A stalled
 * provider's work moves on; the download fails only when no provider can serve a block (or none
 * sent anything for `idleTimeoutMs`). Every block is verified against its CID.
 */
export class ProviderPool {
  private readonly init: ProviderPoolInit
  private readonly providers: Provider[]
  private readonly policy: PlacementPolicy
  /** The ticket sessions open with, renewed before it expires. */
  readonly lease: TicketLease
  private readonly wants = new Map<string, Want>()
  private lastBlockAt = performance.now()
  /** The next want's place in the reading order of this stretch (since the pool last went idle). */
  private nextSeq = 0
  private timer: ReturnType<typeof setTimeout> | undefined
  private scheduled = false
  private closed = false
  /** Wants asked of a second provider while the first was sending them. */
  hedges = 0
  /** Wants taken back from a provider that had not started them, for a faster one. */
  moves = 0

  constructor(init: ProviderPoolInit) {
    this.init = init
    this.providers = init.providers.map((p) => new Provider(p))
    this.policy = new PlacementPolicy(this.providers)
    this.lease = new TicketLease({ ticket: init.ticket, ...(init.receipts !== undefined && { receipts: init.receipts }) }, init.renewTicket)
  }

  /** A read-only block store over the network, for the UnixFS exporter. */
  blockstore() {
    const get = this.get.bind(this)
    return {
      async *get(cid: CID) {
        yield await get(cid)
      },
    }
  }

  /** The verified bytes of one block, from whichever provider delivers it first. */
  get(cid: CID): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new ProviderFailedError({ provider: 'pool', reason: 'the download was closed' }))
    const key = cid.toString()
    const known = this.wants.get(key)
    if (known) return known.result.promise
    // the stall clock and the reading order start again when the pool gets work after being idle
    if (this.wants.size === 0) {
      this.lastBlockAt = performance.now()
      this.policy.startStretch(this.lastBlockAt)
      this.nextSeq = 0
    }
    const want: Want = {
      cid,
      key,
      result: Promise.withResolvers(),
      attempts: [],
      excluded: new Set(),
      lastError: undefined,
      verifying: false,
      seq: this.nextSeq++,
    }
    this.wants.set(key, want)
    this.scheduleSoon()
    return want.result.promise
  }

  /** Per-provider numbers for the meta node's ranking. */
  report(): TransferReport {
    return {
      ticketId: this.lease.current.ticket.ticket.id,
      providers: this.providers.map((p) => ({
        peerId: p.stats.peerId,
        bytes: p.stats.bytes,
        blocks: p.stats.blocks,
        millis: Math.round(p.stats.busyMs),
        failures: p.stats.failures,
        ...(p.stats.firstByteMs !== undefined && { firstByteMs: p.stats.firstByteMs }),
      })),
    }
  }

  /** Each provider's numbers so far, with its wants in flight and its measured rate. */
  stats(): Array<ProviderStats & { inflight: number; measuredBps: number | undefined }> {
    return this.providers.map((p) => ({
      ...p.stats,
      // blocks that came for no want were sent twice all the same
      duplicateBytes: p.stats.duplicateBytes + (p.source?.discardedBytes ?? 0),
      inflight: p.inflight.length,
      measuredBps: p.measuredMs === undefined ? undefined : Math.round((1024 * 1024 * 1000) / p.measuredMs),
    }))
  }

  /** Cancels what is pending (its readers get an error) and closes every session. */
  close(): void {
    this.closed = true
    clearTimeout(this.timer)
    const err = new ProviderFailedError({ provider: 'pool', reason: 'the download was closed' })
    for (const want of [...this.wants.values()]) this.reject(want, err)
    for (const p of this.providers)
      void p.session?.then(
        (s) => s.close(),
        () => {},
      )
  }

  /** Closes like `close()`, after each session has sent its last receipt (waits at most `timeoutMs`). */
  async finish(timeoutMs = 5000): Promise<void> {
    const sessions = [...this.providers.map((p) => p.session?.then((s) => s.finish()).catch(() => {})), this.lease.finishRetired()]
    let timer: ReturnType<typeof setTimeout> | undefined
    const timeout = new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs)
    })
    await Promise.race([Promise.all(sessions), timeout])
    clearTimeout(timer)
    this.close()
  }

  private scheduleSoon(): void {
    if (this.scheduled || this.closed) return
    this.scheduled = true
    // wants made in one turn (the exporter reads ahead in a burst) are placed together
    queueMicrotask(() => {
      this.scheduled = false
      this.schedule()
    })
  }

  /** Places queued wants, moves or duplicates late ones, and fails what no provider can serve. */
  private schedule(): void {
    if (this.closed) return
    const now = performance.now()
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.wants.size === 0) return
    this.lease.renewIfDue(() => this.retireSessions())
    if (now - this.lastBlockAt > (this.init.idleTimeoutMs ?? IDLE_TIMEOUT_MS)) {
      const seconds = Math.round((now - this.lastBlockAt) / 1000)
      for (const want of [...this.wants.values()]) this.reject(want, new DownloadStalledError({ cid: want.key, seconds }))
      return
    }
    const measured = this.providers.flatMap((p) => (p.stats.dead || p.measuredMs === undefined ? [] : [p.measuredMs]))
    // a provider not yet measured is assumed fast (as the prior, or the best one measured): it
    // gets its fair try, and its silence soon tells otherwise
    const unmeasured = Math.min(BLOCK_MS_PRIOR, ...measured)
    const fullRate = this.policy.fullNodeRate(now, unmeasured)
    this.rescueLate(now, unmeasured, fullRate)
    this.placeQueued(now, unmeasured, fullRate)
    if (this.wants.size > 0) this.timer = setTimeout(() => this.schedule(), TICK_MS)
  }

  /** Wants in flight that a faster provider would deliver sooner: moved (not started yet) or duplicated (being sent). */
  private rescueLate(now: number, unmeasured: number, fullRate: number): void {
    const peers = this.providers.filter((p) => p.kind === 'light' && !p.stats.dead)
    // queued wants ahead in the reading order: placed before this one, they are ahead of it in
    // any peer's queue (spread over the peers)
    let queuedAhead = 0
    for (const want of this.wants.values()) {
      if (want.attempts.length === 0) queuedAhead++
      if (want.attempts.length === 0 || want.verifying || want.attempts.length >= MAX_ATTEMPTS) continue
      // when it would arrive where it is now: the best of its attempts
      let projected = Number.POSITIVE_INFINITY
      let started = false
      for (const a of want.attempts) {
        const at = a.provider.inflight.indexOf(a)
        projected = Math.min(projected, a.provider.projectedMs(at, now, unmeasured, false))
        if (at === 0) started = true
      }
      // a rescue is a bet on speed: judged by what was measured, not by an idle provider's faded
      // estimate. Both go now, to a provider with room: a hedge asks a second provider, a move
      // takes the want from where it waits straight to one that would deliver it sooner even
      // behind its queue (put back in the pool's queue, it could go back where it came from, and
      // be sent there twice)
      const ahead = new Map(started ? [] : peers.map((p) => [p, Math.ceil(queuedAhead / peers.length)] as const))
      const target = this.policy.choose(want, { now, unmeasured, fullRate, waiting: ahead, needRoom: true, fade: false })
      if (target === undefined) continue
      // a full node is asked only for a want that would otherwise come later than from the full nodes alone
      if (target.provider.kind === 'full' && now + projected <= this.policy.deadline(want, fullRate)) continue
      if (started) {
        if (target.finishMs * HEDGE_FACTOR + HEDGE_SLACK_MS >= projected) continue
        this.hedges++
        this.send(want, target.provider, now)
      } else {
        if (target.finishMs * MOVE_FACTOR + MOVE_SLACK_MS >= projected) continue
        this.moves++
        for (const a of [...want.attempts]) this.cancel(a, now, false)
        this.send(want, target.provider, now)
      }
    }
  }

  /** List scheduling of the wants no provider has yet, in the order asked. */
  private placeQueued(now: number, unmeasured: number, fullRate: number): void {
    // wants waiting for a provider whose window is full, counted as its future load
    const waiting = new Map<Provider, number>()
    const outlook: Outlook = { now, unmeasured, fullRate, waiting, needRoom: false, fade: true }
    for (const want of [...this.wants.values()]) {
      if (want.attempts.length > 0 || want.verifying) continue
      const target = this.policy.choose(want, outlook)
      if (target === undefined) {
        this.reject(want, want.lastError ?? new NoProvidersError({ cid: want.key }))
        continue
      }
      const { provider } = target
      if ((waiting.get(provider) ?? 0) === 0 && provider.inflight.length < provider.window()) this.send(want, provider, now)
      else waiting.set(provider, (waiting.get(provider) ?? 0) + 1)
    }
  }

  /** A new ticket is current: sessions opened under the old one take no more wants and finish once idle. */
  private retireSessions(): void {
    for (const provider of this.providers) {
      const session = provider.session
      if (session === undefined) continue
      provider.session = undefined
      const inflight = provider.inflight.filter((a) => (a as PoolAttempt).session === session).length
      this.lease.retire(session, inflight)
    }
    this.scheduleSoon()
  }

  private send(want: Want, provider: Provider, now: number): void {
    provider.session ??= this.connect(provider).then((s) => {
      provider.source = s
      return s
    })
    const attempt: PoolAttempt = { provider, sentAt: now, cancelled: false, want, session: provider.session }
    provider.stats.asked++
    want.attempts.push(attempt)
    provider.begin(attempt)
    provider.session.then(
      (session) => {
        if (attempt.cancelled) return
        if (session.closed) return this.failed(attempt, new ProviderFailedError({ provider: session.provider, reason: 'its session is closed' }))
        session.want(want.cid).then(
          (bytes) => void this.arrived(attempt, bytes),
          (err: Error) => this.failed(attempt, err),
        )
      },
      (err: Error) => {
        if (this.expired(attempt, err)) return
        provider.stats.dead = true
        this.failed(attempt, err)
      },
    )
  }

  /**
   * A provider that refused the ticket as expired is not at fault: the want goes back to the queue,
   * the session is dropped and the ticket renewed (at once) — unless the ticket cannot be renewed.
   */
  private expired(attempt: PoolAttempt, err: Error): boolean {
    if (err.name !== 'TicketExpiredError' || !this.lease.renewable || attempt.cancelled) return false
    const { provider } = attempt
    this.drop(attempt, performance.now())
    if (provider.session === attempt.session) provider.session = undefined
    this.lease.renewIfDue(() => this.retireSessions(), true)
    this.scheduleSoon()
    return true
  }

  private async arrived(attempt: PoolAttempt, bytes: Uint8Array): Promise<void> {
    const now = performance.now()
    const { provider, want } = attempt
    this.lastBlockAt = now
    // progress and a rate sample, whether or not the block is still wanted: the provider is alive
    provider.arrived(bytes.byteLength, now)
    if (!attempt.cancelled) this.drop(attempt, now)
    if (want.verifying || !this.wants.has(want.key)) {
      // another provider sent it first and the cancel came too late
      provider.stats.duplicateBytes += bytes.byteLength
      this.scheduleSoon()
      return
    }
    // a cancelled attempt's block that comes before the others' is used all the same
    want.verifying = true
    try {
      await verifyBlock(want.cid, bytes)
    } catch (err) {
      want.verifying = false
      // a provider that sent bytes not matching the CID is not asked again
      provider.stats.dead = true
      this.failed(attempt, err as Error, true)
      return
    }
    for (const other of [...want.attempts]) this.cancel(other, performance.now(), true)
    this.wants.delete(want.key)
    provider.stats.bytes += bytes.byteLength
    provider.stats.blocks++
    this.policy.delivered(provider)
    provider.stats.firstByteMs ??= this.policy.sinceStart(now)
    this.init.onBlock?.(bytes.byteLength, provider.endpoint.peerId)
    want.result.resolve(bytes)
    this.scheduleSoon()
  }

  private failed(attempt: PoolAttempt, err: Error, dropped = false): void {
    if (attempt.cancelled || (!dropped && this.expired(attempt, err))) return
    const { provider, want } = attempt
    if (!dropped) this.drop(attempt, performance.now())
    provider.stats.failures++
    want.excluded.add(provider)
    want.lastError = err
    provider.session?.then(
      (s) => {
        if (s.closed) provider.stats.dead = true
      },
      () => {},
    )
    this.scheduleSoon()
  }

  /** Gives up an attempt: the provider is told, so a block it has not started sending is never sent. */
  private cancel(attempt: PoolAttempt, now: number, lostRace: boolean): void {
    const { provider } = attempt
    // it was sending this block and another provider beat it: it needs longer than it has been silent
    if (lostRace && provider.inflight[0] === attempt && provider.silence(now) > provider.blockMs(now)) provider.slowerThan(provider.silence(now))
    attempt.cancelled = true
    provider.stats.cancelled++
    this.drop(attempt, now)
    void provider.session?.then(
      (s) => s.cancel(attempt.want.cid),
      () => {},
    )
  }

  private drop(attempt: PoolAttempt, now: number): void {
    if (attempt.provider.inflight.includes(attempt)) this.lease.answered(attempt.session)
    attempt.provider.end(attempt, now)
    const at = attempt.want.attempts.indexOf(attempt)
    if (at >= 0) attempt.want.attempts.splice(at, 1)
  }

  private reject(want: Want, err: Error): void {
    for (const a of [...want.attempts]) this.cancel(a, performance.now(), false)
    this.wants.delete(want.key)
    want.result.reject(err)
  }

  private async connect(provider: Provider): Promise<BlockSource> {
    const { endpoint } = provider
    const { ticket, receipts } = await this.lease.fresh()
    const transport = this.init.transport ?? 'auto'
    if (transport === 'http' || (transport === 'auto' && endpoint.httpUrl)) return new HttpBlockSession(endpoint, ticket, receipts)
    return BlockSession.open(this.init.libp2p, endpoint, ticket, undefined, this.init.openStream, receipts)
  }
}
