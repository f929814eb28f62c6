import { ewma, type NodeEndpoint, PRIOR_THROUGHPUT_BPS } from '@konbini/protocol'
import type { BlockSource } from './block-source.ts'

/** What the pool knows about one provider during one download. */
export interface ProviderStats {
  peerId: string
  bytes: number
  blocks: number
  failures: number
  /** Milliseconds during which this provider had work in flight. */
  busyMs: number
  firstByteMs: number | undefined
  dead: boolean
}

/** One provider's session, load and measured rate during one download. */
export class Provider {
  readonly endpoint: NodeEndpoint
  readonly stats: ProviderStats
  session: Promise<BlockSource> | undefined
  inflight = 0
  private busySince = 0
  private readonly prior: number
  /** Milliseconds per byte from gaps between blocks (averaged as time, so bursts do not inflate it). */
  private msPerByte = 0
  private samples = 0
  private lastArrival = 0
  /** Slowdowns observed (stalls): each halves the estimate until the provider proves itself again. */
  penalty = 1

  constructor(endpoint: NodeEndpoint, prior: number) {
    this.endpoint = endpoint
    this.prior = prior > 0 ? prior : PRIOR_THROUGHPUT_BPS
    this.stats = { peerId: endpoint.peerId, bytes: 0, blocks: 0, failures: 0, busyMs: 0, firstByteMs: undefined, dead: false }
  }

  /**
   * Bytes per second the provider sends while it has work queued: measured from the gap between
   * consecutive blocks, which does not grow with how much work it was given (a plain
   * bytes-per-busy-second figure does, and makes a scheduler feed whoever it already fed).
   */
  get measured(): number | undefined {
    return this.samples >= 3 && this.msPerByte > 0 ? 1000 / this.msPerByte : undefined
  }

  /**
   * The rate work is shared by. Until measured, a provider is assumed as fast as the best one
   * measured so far (or the meta node's figure), so it gets its fair try.
   */
  rate(bestMeasured: number): number {
    return (this.measured ?? Math.max(this.prior, bestMeasured)) / this.penalty
  }

  begin(): void {
    if (this.inflight++ === 0) {
      this.busySince = performance.now()
      this.lastArrival = this.busySince
    }
  }

  arrived(bytes: number): void {
    const now = performance.now()
    // a small block (a directory or the root) says more about latency than rate: it would
    // make its provider look a thousand times slower for the next dozens of blocks
    if (bytes < 256 * 1024) {
      this.lastArrival = now
      return
    }
    this.msPerByte = ewma(this.msPerByte, Math.max(now - this.lastArrival, 0.001) / bytes, 0.2)
    this.samples++
    this.lastArrival = now
  }

  end(): void {
    if (--this.inflight === 0) this.stats.busyMs += performance.now() - this.busySince
  }
}
