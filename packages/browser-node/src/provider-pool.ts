import {
  isErrorNamed,
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
import { Provider, type ProviderStats } from './provider.ts'
import { HttpBlockSession } from './http-block-session.ts'

/** A want unanswered past its expected time: the provider is slow, not necessarily gone. */
class StallError extends ProviderFailedError {}

/**
 * Rounds of re-asking when every live provider stalled on one block. Each stall doubles the
 * provider's penalty and so its stall window: the rounds wait out a busy network, and a provider
 * that never answers still fails the read after a bounded time.
 */
const MAX_STALL_ROUNDS = 6

export interface ProviderPoolInit {
  libp2p: Libp2p
  ticket: SignedDownloadTicket
  providers: ReadonlyArray<NodeEndpoint & { throughputBps?: number }>
  /** A want unanswered this long past its expected time is asked of another provider. */
  stallMs?: number
  /**
   * How to reach providers: `auto` (default) uses HTTP for a provider with an HTTP URL (full nodes:
   * no Noise in the way of bulk bytes) and libp2p otherwise; the others force one path.
   */
  transport?: 'auto' | 'http' | 'libp2p'
  onBlock?: (bytes: number, provider: string) => void
  /** How to open a libp2p block stream when a plain dial is not enough (light peers: a direct WebRTC connection). */
  openStream?: OpenStream
}

/**
 * Fetches blocks from several providers at once. Each request goes to the provider that would
 * finish it soonest (in-flight ÷ measured rate), so work flows in proportion to speed; a failing
 * or stalled provider loses its work to the others. Every block is verified against its CID.
 */
export class ProviderPool {
  private readonly init: ProviderPoolInit
  private readonly providers: Provider[]
  private readonly started = performance.now()
  /** Blocks also asked of a second provider because the first was slow. */
  hedges = 0

  constructor(init: ProviderPoolInit) {
    this.init = init
    this.providers = init.providers.map((p) => new Provider(p, p.throughputBps ?? 0))
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

  async get(cid: CID): Promise<Uint8Array> {
    const tried = new Set<Provider>()
    let lastError: Error | undefined
    // some provider was only slow for this block (and may still be alive): worth another round
    let stalled = false
    for (let rounds = 0; ; ) {
      let provider = this.pick(tried)
      if (provider === undefined && stalled && rounds < MAX_STALL_ROUNDS) {
        // every provider was tried; those only slow (a busy network) are asked again, the dead
        // ones are not; a want still pending at one is joined, not sent twice
        rounds++
        tried.clear()
        provider = this.pick(tried)
      }
      if (provider === undefined) throw lastError ?? new NoProvidersError({ cid: cid.toString() })
      tried.add(provider)
      try {
        return await this.hedged(provider, cid, tried)
      } catch (err) {
        lastError = err as Error
        if (err instanceof StallError) stalled = true
      }
    }
  }

  /**
   * Fetches from `first`; if `first` is much slower than the best provider and the block has not
   * come by the time the best one would have sent it twice, asks the best one too and takes
   * whichever answers first. Keeps a slow provider from holding up the in-order reader.
   */
  private hedged(first: Provider, cid: CID, tried: Set<Provider>): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      let pending = 0
      let done = false
      let timer: ReturnType<typeof setTimeout> | undefined
      const attempt = (provider: Provider) => {
        pending++
        this.fetchFrom(provider, cid).then(
          (bytes) => {
            if (done) return
            done = true
            clearTimeout(timer)
            resolve(bytes)
          },
          (err: Error) => {
            if (--pending === 0 && !done) {
              done = true
              clearTimeout(timer)
              reject(err)
            }
          },
        )
      }
      attempt(first)
      const delay = this.hedgeDelay(first)
      if (delay !== undefined) {
        timer = setTimeout(() => {
          const second = this.pick(tried)
          if (done || second === undefined) return
          tried.add(second)
          this.hedges++
          attempt(second)
        }, delay)
      }
    })
  }

  /**
   * When to ask a second provider for a block `first` is sending: soon when `first` is measured
   * much slower than the best provider, late (a safety net) otherwise — hedging unmeasured
   * providers early would duplicate most of a download's first blocks.
   */
  private hedgeDelay(first: Provider): number | undefined {
    const best = Math.max(0, ...this.providers.map((p) => (p.stats.dead ? 0 : (p.measured ?? 0))))
    if (best === 0) return undefined
    const blockMs = ((1024 * 1024) / best) * 1000
    const own = first.measured
    return own !== undefined && own < best / 2 ? 2 * blockMs + 20 : 8 * blockMs + 100
  }

  /** Per-provider numbers for the meta node's ranking. */
  report(): TransferReport {
    return {
      ticketId: this.init.ticket.ticket.id,
      providers: this.providers.map((p) => ({
        peerId: p.stats.peerId,
        bytes: p.stats.bytes,
        blocks: p.stats.blocks,
        millis: p.stats.busyMs,
        failures: p.stats.failures,
        ...(p.stats.firstByteMs !== undefined && { firstByteMs: p.stats.firstByteMs }),
      })),
    }
  }

  /** Each provider's numbers so far, with the wants it has in flight right now. */
  stats(): Array<ProviderStats & { inflight: number }> {
    return this.providers.map((p) => ({ ...p.stats, inflight: p.inflight }))
  }

  close(): void {
    for (const p of this.providers)
      void p.session?.then(
        (s) => s.close(),
        () => {},
      )
  }

  private connect(endpoint: NodeEndpoint): Promise<BlockSource> {
    const transport = this.init.transport ?? 'auto'
    if (transport === 'http' || (transport === 'auto' && endpoint.httpUrl)) return Promise.resolve(new HttpBlockSession(endpoint, this.init.ticket))
    return BlockSession.open(this.init.libp2p, endpoint, this.init.ticket, undefined, this.init.openStream)
  }

  private pick(exclude: Set<Provider>): Provider | undefined {
    let best: Provider | undefined
    let bestCost = Number.POSITIVE_INFINITY
    const bestMeasured = Math.max(0, ...this.providers.map((p) => (p.stats.dead ? 0 : (p.measured ?? 0))))
    for (const p of this.providers) {
      if (p.stats.dead || exclude.has(p)) continue
      const cost = (p.inflight + 1) / p.rate(bestMeasured)
      if (cost < bestCost) {
        best = p
        bestCost = cost
      }
    }
    return best
  }

  private async fetchFrom(provider: Provider, cid: CID): Promise<Uint8Array> {
    provider.session ??= this.connect(provider.endpoint)
    let session: BlockSource
    try {
      session = await provider.session
    } catch (err) {
      provider.stats.dead = true
      throw err
    }
    if (session.closed) {
      provider.stats.dead = true
      throw new Error(`provider ${provider.endpoint.peerId} is gone`)
    }
    // expected time for this block behind the ones already queued at this provider, with slack
    const expectedMs = ((provider.inflight + 1) * 1024 * 1024 * 1000) / provider.rate(0)
    // bounded: a timer past 2^31 ms fires at once
    const stallMs = Math.min((this.init.stallMs ?? 3000) + expectedMs * 4, 120_000)
    provider.begin()
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      const bytes = await Promise.race([
        session.want(cid),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            provider.penalty *= 2
            // the want stays pending: its block may still come, and asking this provider again joins it
            reject(new StallError({ provider: provider.endpoint.peerId, reason: `no block within ${Math.round(stallMs)} ms` }))
          }, stallMs)
        }),
      ])
      await verifyBlock(cid, bytes)
      provider.arrived(bytes.byteLength)
      provider.stats.bytes += bytes.byteLength
      provider.stats.blocks++
      provider.stats.firstByteMs ??= performance.now() - this.started
      if (provider.penalty > 1) provider.penalty = Math.max(1, provider.penalty / 2)
      this.init.onBlock?.(bytes.byteLength, provider.endpoint.peerId)
      return bytes
    } catch (err) {
      provider.stats.failures++
      // a provider that sent bytes not matching the CID is not asked again
      if (session.closed || isErrorNamed(err, 'BlockHashMismatchError')) provider.stats.dead = true
      throw err
    } finally {
      clearTimeout(timer)
      provider.end()
    }
  }
}
