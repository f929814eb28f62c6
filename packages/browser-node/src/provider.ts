import type { NodeEndpoint } from '@konbini/protocol'
import type { BlockSource } from './block-source.ts'
import {
  BLOCK_MS_PRIOR,
  ESTIMATE_HALF_LIFE_MS,
  RATE_SAMPLES,
  SILENCE_FACTOR,
  INITIAL_WINDOW,
  MAX_WINDOW,
  SILENCE_SLACK_MS,
  SMALL_BLOCK,
  WINDOW_TARGET_MS,
} from './scheduling.ts'

/** What the pool knows about one provider during one download. */
export interface ProviderStats {
  peerId: string
  kind: 'full' | 'light'
  /** Bytes of blocks this provider delivered first (the ones the download used). */
  bytes: number
  blocks: number
  /** Bytes of blocks it delivered after another provider had (sent before the cancel reached it). */
  duplicateBytes: number
  failures: number
  /** Wants sent to it, and of those, cancelled (another provider was faster, or it was moved). */
  asked: number
  cancelled: number
  /** Milliseconds during which this provider had work in flight. */
  busyMs: number
  firstByteMs: number | undefined
  dead: boolean
}

/** One want sent to one provider. */
export interface Attempt {
  readonly provider: Provider
  readonly sentAt: number
  cancelled: boolean
}

/**
 * One provider's session, work in flight and measured speed during one download. Speed is
 * learnt here, within the download, from the gaps between the blocks it sends — not from what
 * the meta node believed before.
 */
export class Provider {
  readonly endpoint: NodeEndpoint
  readonly kind: 'full' | 'light'
  readonly stats: ProviderStats
  session: Promise<BlockSource> | undefined
  /** The session once open (for its counters). */
  source: BlockSource | undefined
  /** Attempts sent and not yet answered or cancelled, in the order they were sent (a provider answers in order). */
  readonly inflight: Attempt[] = []
  /** Milliseconds per 1 MiB block, from gaps between blocks; undefined until one gap was seen. */
  private msPerBlock: number | undefined
  private samples: number[] = []
  private arrivals = 0
  private busySince = 0
  private idleSince = performance.now()
  /** When the provider last showed progress: its last block, or the moment it was given work while idle. */
  private lastProgress = 0

  /** The fewest milliseconds a block can take from it: its operator's declared egress cap (0 when none). */
  private readonly floorMs: number

  constructor(endpoint: NodeEndpoint & { kind?: 'full' | 'light'; egressCapBps?: number }) {
    this.endpoint = endpoint
    this.kind = endpoint.kind ?? (endpoint.httpUrl ? 'full' : 'light')
    this.floorMs = (endpoint.egressCapBps ?? 0) > 0 ? (1024 * 1024 * 1000) / (endpoint.egressCapBps as number) : 0
    this.stats = {
      peerId: endpoint.peerId,
      kind: this.kind,
      bytes: 0,
      blocks: 0,
      duplicateBytes: 0,
      failures: 0,
      asked: 0,
      cancelled: 0,
      busyMs: 0,
      firstByteMs: undefined,
      dead: false,
    }
  }

  /** Milliseconds per block measured so far, if any. */
  get measuredMs(): number | undefined {
    return this.msPerBlock
  }

  /**
   * Milliseconds per block to plan with: measured, else `unmeasured` (optimistic, so a newcomer
   * gets its fair try). An idle light peer's estimate fades toward `unmeasured` (half-life
   * ESTIMATE_HALF_LIFE_MS): a provider never asked is never measured again, and a slow start (a
   * WebRTC warm-up, a busy moment) must not shut it out of the rest of the download.
   */
  blockMs(now: number, unmeasured = BLOCK_MS_PRIOR, fade = true): number {
    return Math.max(this.floorMs, this.estimateMs(now, unmeasured, fade))
  }

  private estimateMs(now: number, unmeasured: number, fade: boolean): number {
    const ms = this.msPerBlock
    if (ms === undefined) return unmeasured
    // only a light peer's: a full node is the fallback, measured whenever it is needed
    if (!fade || this.kind === 'full' || this.inflight.length > 0 || ms <= unmeasured) return ms
    return Math.max(unmeasured, ms * 0.5 ** ((now - this.idleSince) / ESTIMATE_HALF_LIFE_MS))
  }

  /** How long the provider has had work and sent nothing. */
  silence(now: number): number {
    return this.inflight.length > 0 ? now - this.lastProgress : 0
  }

  /**
   * Milliseconds per block allowing for silence: a provider silent for much longer than its
   * estimate (SILENCE_FACTOR× plus SILENCE_SLACK_MS: WebRTC delivers in bursts, and an event loop gets busy) is assumed to need at least as long again (it may be capped, loaded or stalled).
   */
  effectiveMs(now: number, unmeasured?: number, fade = true): number {
    const ms = this.blockMs(now, unmeasured, fade)
    const silent = this.silence(now)
    return silent > SILENCE_FACTOR * ms + SILENCE_SLACK_MS ? 2 * silent : ms
  }

  /** Most wants it may have in flight: enough to keep its pipe full for WINDOW_TARGET_MS, few until measured. */
  window(): number {
    if (this.msPerBlock === undefined) return INITIAL_WINDOW
    return Math.min(MAX_WINDOW, Math.max(1, Math.ceil(WINDOW_TARGET_MS / Math.max(this.floorMs, this.msPerBlock)) + 1))
  }

  /**
   * Time from now until the attempt at `index` of the in-flight list would arrive: what is left of
   * the block being sent — or, silent for long, as long again as it has been silent (a hiccup
   * delays the queue behind it once, not once per block) — then a block time per want ahead.
   */
  projectedMs(index: number, now: number, unmeasured?: number, fade = true): number {
    const ms = this.blockMs(now, unmeasured, fade)
    const silent = this.silence(now)
    const head = silent > SILENCE_FACTOR * ms + SILENCE_SLACK_MS ? silent : Math.max(0, ms - silent)
    return head + index * ms
  }

  begin(attempt: Attempt): void {
    if (this.inflight.length === 0) {
      this.busySince = attempt.sentAt
      this.lastProgress = attempt.sentAt
    }
    this.inflight.push(attempt)
  }

  /** A block arrived (before verification): a gap sample for the rate. */
  arrived(bytes: number, now: number): void {
    // the first block says nothing of the rate: a light peer's carries the WebRTC warm-up
    // (seconds, at times), a capped relay's leaves at once from its full token bucket; a small
    // block (the root, a directory) says more about latency than rate
    if (this.arrivals++ > 0 && bytes >= SMALL_BLOCK) {
      const sample = (Math.max(now - this.lastProgress, 0.01) * 1024 * 1024) / bytes
      // the mean of the last few gaps: bursty delivery (WebRTC sends a few blocks, then pauses)
      // averages out, where a moving average of single gaps swings with each burst
      this.samples.push(sample)
      if (this.samples.length > RATE_SAMPLES) this.samples.shift()
      this.msPerBlock = this.samples.reduce((n, x) => n + x, 0) / this.samples.length
    }
    this.lastProgress = now
  }

  /**
   * The attempt at the head was given up after `silentMs` without a block: a censored sample —
   * the provider needs more than that per block.
   */
  slowerThan(silentMs: number): void {
    // before its first block the silence is the session's setup (a dial, a WebRTC warm-up), not its rate
    if (this.arrivals === 0) return
    if (this.msPerBlock === undefined || this.msPerBlock < silentMs) {
      this.msPerBlock = silentMs
      this.samples = [silentMs]
    }
  }

  /** Takes an attempt out of the in-flight list (answered, failed or cancelled). */
  end(attempt: Attempt, now: number): void {
    const at = this.inflight.indexOf(attempt)
    if (at < 0) return
    this.inflight.splice(at, 1)
    if (this.inflight.length === 0) {
      this.stats.busyMs += now - this.busySince
      this.idleSince = now
    }
  }
}
