/** What the meta node knows about a node when it ranks it. */
export interface ScoreInput {
  throughputBps: number
  latencyMs: number
  successRate: number
  activeTransfers: number
  /** 1 when the node is in the requester's region, else 0. */
  sameRegion: boolean
  /** Free space after this placement, as a fraction of capacity (0..1). */
  freeFraction: number
}

/** Throughput assumed for a node nobody has measured yet: it gets tried, but not preferred. */
export const PRIOR_THROUGHPUT_BPS = 50 * 1024 * 1024

/**
 * Ranks a node: expected useful rate, discounted by failures, load and distance.
 * Pure and monotonic in each input, so a slower, flakier or busier node never ranks higher.
 */
export function scoreNode(input: ScoreInput): number {
  const rate = input.throughputBps > 0 ? input.throughputBps : PRIOR_THROUGHPUT_BPS
  const reliability = input.successRate ** 2
  const loadFactor = 1 / (1 + input.activeTransfers / 4)
  const latencyFactor = 1 / (1 + input.latencyMs / 100)
  const regionFactor = input.sameRegion ? 1.25 : 1
  const spaceFactor = input.freeFraction <= 0 ? 0 : Math.min(1, 0.5 + input.freeFraction)
  return (rate / (1024 * 1024)) * reliability * loadFactor * latencyFactor * regionFactor * spaceFactor
}

/** Exponentially weighted moving average, the meta node's memory of measured numbers. */
export function ewma(previous: number, sample: number, weight = 0.3): number {
  if (!Number.isFinite(previous) || previous <= 0) return sample
  return previous * (1 - weight) + sample * weight
}
