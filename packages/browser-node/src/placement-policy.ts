import type { Provider } from './provider.ts'
import { STARTUP_GRACE_MS } from './scheduling.ts'
import type { Want } from './want.ts'

/** A provider and when it would deliver the want in question (ms from now). */
export interface Choice {
  provider: Provider
  finishMs: number
}

/** How the pool looks at providers for one decision. */
export interface Outlook {
  now: number
  /** Block time assumed for a provider not yet measured. */
  unmeasured: number
  /** Blocks per ms the live full nodes would deliver together, by what was measured. */
  fullRate: number
  /** Wants waiting for a provider whose window is full, counted as its future load. */
  waiting: ReadonlyMap<Provider, number>
  /** Only providers with room in their window now. */
  needRoom: boolean
  /** Let an idle light peer's estimate fade toward the prior (false: judge by what was measured). */
  fade: boolean
}

/**
 * Who should deliver a want (see docs/ARCHITECTURE.md, "Download scheduling"): the fastest light
 * peer if it would deliver it by the time the full nodes alone would have — reading from the start
 * of this stretch at their measured rates together — else whichever is fastest. Peers are so
 * preferred whenever they are not slower, and the viewer is never slower with peers than without;
 * a peer ahead of that pace may pause now and then without the relays stepping in.
 */
export class PlacementPolicy {
  private readonly providers: readonly Provider[]
  private readonly started = performance.now()
  /** When the current stretch of reading began (the pool went from idle to busy). */
  private readingSince = performance.now()
  /** Whether a light peer has delivered a block in this download (ends the fast start). */
  private peerDelivered = false

  constructor(providers: readonly Provider[]) {
    this.providers = providers
  }

  /** The pool went from idle to busy at `now`: the reading pace is counted from here. */
  startStretch(now: number): void {
    this.readingSince = now
  }

  /** A provider delivered a verified block. */
  delivered(provider: Provider): void {
    if (provider.kind === 'light') this.peerDelivered = true
  }

  /** Milliseconds since the download began. */
  sinceStart(now: number): number {
    return now - this.started
  }

  choose(want: Want, o: Outlook): Choice | undefined {
    const light = this.fastest('light', want, o)
    const full = this.fastest('full', want, o)
    if (light === undefined || full === undefined) return light ?? full
    // fast start: until a peer has sent its first block, the full nodes carry one want at a time
    // — the first block (the root) comes from the nearest relay while WebRTC warms up — for
    // STARTUP_GRACE_MS, after which a peer still silent no longer holds the download back
    if (!this.peerDelivered && o.now - this.started < STARTUP_GRACE_MS) return this.fullNodeLoad(o.waiting) === 0 ? full : light
    if (o.now + light.finishMs <= this.deadline(want, o.fullRate)) return light
    return full.finishMs < light.finishMs ? full : light
  }

  /** When the full nodes alone would have delivered `want`, reading from the start of this stretch. */
  deadline(want: Want, fullRate: number): number {
    return this.readingSince + (want.seq + 1) / fullRate
  }

  /**
   * Blocks per millisecond the live full nodes would deliver together (0 when there are none), by
   * what was measured: an idle node's estimate is not faded here, or an idle capped relay would
   * look fast and take work from the peers.
   */
  fullNodeRate(now: number, unmeasured: number): number {
    let rate = 0
    for (const p of this.providers) if (p.kind === 'full' && !p.stats.dead) rate += 1 / p.effectiveMs(now, unmeasured, false)
    return rate
  }

  /** Of one kind, the provider that would deliver `want` soonest (counting the wants queued there), among those alive, not failed for it and not already asked for it. */
  private fastest(kind: 'full' | 'light', want: Want, o: Outlook): Choice | undefined {
    let best: Choice | undefined
    for (const p of this.providers) {
      if (p.kind !== kind || p.stats.dead || want.excluded.has(p) || want.attempts.some((a) => a.provider === p)) continue
      if (o.needRoom && p.inflight.length >= p.window()) continue
      const finishMs = p.projectedMs(p.inflight.length + (o.waiting.get(p) ?? 0), o.now, o.unmeasured, o.fade)
      if (best === undefined || finishMs < best.finishMs) best = { provider: p, finishMs }
    }
    return best
  }

  /** Wants the full nodes have in flight or waiting for them. */
  private fullNodeLoad(waiting: ReadonlyMap<Provider, number>): number {
    let load = 0
    for (const p of this.providers) if (p.kind === 'full') load += p.inflight.length + (waiting.get(p) ?? 0)
    return load
  }
}
