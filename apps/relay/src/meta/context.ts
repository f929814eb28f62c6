import type { RelayConfig } from '../config.ts'
import type { Metrics } from '../http/metrics.ts'
import type { MetaStore } from './db/meta-store.ts'
import type { PotStore } from './db/pot-store.ts'
import type { EpochClock } from './epochs.ts'
import type { NodeStakes } from './node-stake.ts'
import type { KeyedRateLimit } from './rate-limit.ts'
import type { Slasher } from './slashing.ts'
import type { TicketIssuer } from './tickets.ts'
import type { UploadWaiters } from './upload-waiters.ts'

/** What every meta route works with. */
export interface MetaContext {
  store: MetaStore
  pot: PotStore
  /** Proof of Traffic's epochs; undefined without a chain (traffic is then unpaid). */
  epochs: EpochClock | undefined
  issuer: TicketIssuer
  config: Pick<RelayConfig, 'chainId' | 'liveSeconds' | 'admins' | 'popularityHalfLifeSeconds' | 'cacheAssignments' | 'requestsPerLightCopy'>
  ticketLimit: KeyedRateLimit
  /** Heartbeats per source address and per operator. */
  heartbeatLimit: KeyedRateLimit
  /** Full nodes' stakes on chain; undefined without a chain (any node that proves its URL is taken). */
  stakes: NodeStakes | undefined
  metrics: Metrics
  /** Slashing by meta quorum of nodes that fail their storage audits; undefined without a chain. */
  slasher: Slasher | undefined
  /** Upload-status long-polls: woken by the storage report that completes their upload. */
  uploadWaiters: UploadWaiters
  /** Unix seconds. */
  now(): number
}

/** Who is asking: used as the rate-limit key. */
export interface Caller {
  ip: string
}
