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

/** The least a node's success rate counts for in its score: consumers' failure reports rank a node last, never out. */
export const MIN_RELIABILITY = 0.1
/** The fastest a transfer report may say a provider sent (10 Gbit/s): a faster claim is read as this. */
export const MAX_PLAUSIBLE_BPS = 1.25e9
/** A report about this many bytes moves a node's averages one full step (`SAMPLE_WEIGHT`); a smaller one less. */
export const FULL_SAMPLE_BYTES = 16 * 1024 * 1024
/** Most failures one report counts per provider. */
export const MAX_REPORTED_FAILURES = 16
/** The weight of one full sample in a node's moving averages. */
export const SAMPLE_WEIGHT = 0.3

/** What a consumer said about one provider of its ticket. */
export interface ReportedTransfer {
  bytes: number
  blocks: number
  millis: number
  failures: number
  firstByteMs?: number
}

/**
 * A consumer's report about one provider, as far as it may be believed: bytes no more than
 * `provenBytes` (its receipts, or the ticket's budget), a rate no faster than MAX_PLAUSIBLE_BPS,
 * at most MAX_REPORTED_FAILURES failures, and a weight that grows with what the report covers —
 * so a flood of tiny reports, or one absurd one, moves a node's rank by little.
 */
export function boundedSample(reported: ReportedTransfer, provenBytes: number): ReportedTransfer & { weight: number } {
  const bytes = Math.min(reported.bytes, Math.max(0, provenBytes))
  const failures = Math.min(reported.failures, MAX_REPORTED_FAILURES)
  // a block is at least a byte: no more blocks than bytes (and one empty block)
  const blocks = Math.min(reported.blocks, bytes + 1)
  const millis = Math.max(reported.millis, (bytes / MAX_PLAUSIBLE_BPS) * 1000)
  const covered = bytes + failures * (FULL_SAMPLE_BYTES / MAX_REPORTED_FAILURES)
  const weight = SAMPLE_WEIGHT * Math.min(1, covered / FULL_SAMPLE_BYTES)
  return { bytes, blocks, millis, failures, ...(reported.firstByteMs !== undefined && { firstByteMs: reported.firstByteMs }), weight }
}

/** Throughput assumed for a node nobody has measured yet: it gets tried, but not preferred. */
export const PRIOR_THROUGHPUT_BPS = 50 * 1024 * 1024

/**
 * Ranks a node: expected useful rate, discounted by failures, load and distance.
 * Pure and monotonic in each input, so a slower, flakier or busier node never ranks higher.
 */
export function scoreNode(input: ScoreInput): number {
  const rate = input.throughputBps > 0 ? input.throughputBps : PRIOR_THROUGHPUT_BPS
  // reports can push a node to the back of the list, never off it: availability is not a matter of reputation
  const reliability = Math.max(input.successRate, MIN_RELIABILITY) ** 2
  const loadFactor = 1 / (1 + input.activeTransfers / 4)
  const latencyFactor = 1 / (1 + input.latencyMs / 100)
  const regionFactor = input.sameRegion ? 1.25 : 1
  const spaceFactor = input.freeFraction <= 0 ? 0 : Math.min(1, 0.5 + input.freeFraction)
  return (rate / (1024 * 1024)) * reliability * loadFactor * latencyFactor * regionFactor * spaceFactor
}
