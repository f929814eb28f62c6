import { z } from 'zod'
import { holdingChallenge, holdingProof } from '../holding-proof.ts'
import { address, byteCount, cidString, peerId, region, signature, unixSeconds } from './common.ts'

/** The most capacity a node may state (1 PiB). */
export const MAX_STATED_CAPACITY = 2 ** 50

/** Where and how a resource node can be reached. */
export const nodeEndpoint = z.object({
  peerId,
  multiaddrs: z.array(z.string().max(512)).max(32),
  /** Full nodes serve HTTP(S); light peers (browser tabs) have none and serve over WebRTC. */
  httpUrl: z
    .url({ protocol: /^https?$/, error: 'an http or https URL' })
    .max(512)
    .optional(),
})
export type NodeEndpoint = z.infer<typeof nodeEndpoint>

/** What a node states about itself: endpoint, operator, capacity and load. */
export const nodeState = nodeEndpoint.extend({
  operator: address,
  kind: z.enum(['full', 'light']),
  region,
  /** Stated, so bounded: a pebibyte at most (free space only ever scales a score down). */
  capacityBytes: byteCount.max(MAX_STATED_CAPACITY),
  usedBytes: byteCount.max(MAX_STATED_CAPACITY),
  egressCapBps: byteCount,
  activeTransfers: z.number().int().nonnegative().max(1_000_000),
})

/** A resource node's periodic statement to the meta node. */
export const heartbeat = nodeState.extend({
  /** Within HEARTBEAT_SKEW_SECONDS of the meta node's clock. */
  issuedAt: unixSeconds,
  /** Above the last one the meta node took from this peer id: a replayed heartbeat is refused. */
  seq: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
  /** Meta addresses whose tickets this node accepts: a meta node not in the list does not register it. */
  trustedMetas: z.array(address).max(32),
  /** The peer key's Ed25519 signature (base64url) over `nodeBindingMessage(operator)`: binds peer id to operator. */
  binding: z.string().max(200),
  /** Light peers only: the roots whose every block this peer holds in its cache (authoritative: replaces the last list). */
  holds: z.array(cidString).max(1024).optional(),
  /** Light peers only: answers to the spot checks of the last heartbeat answer. */
  proofs: z.array(holdingProof).max(8).optional(),
  /** Light peers only: the donor's caps and whether it serves now (paused on battery, data-saver, hidden tab or a spent daily cap). */
  donor: z
    .object({
      storageCapBytes: byteCount,
      uploadCapBps: byteCount,
      dailyCapBytes: byteCount,
      servedBytes24h: byteCount,
      paused: z.boolean(),
    })
    .optional(),
})
export type Heartbeat = z.infer<typeof heartbeat>

/** How far a heartbeat's `issuedAt` may be from the meta node's clock. */
export const HEARTBEAT_SKEW_SECONDS = 120

/** The bytes a full node's peer key signs to prove its URL is its own: `GET /v1/identity?challenge=…`. */
export function identityChallengeMessage(challenge: string): Uint8Array {
  return new TextEncoder().encode(`konbini-identity:${challenge.toLowerCase()}`)
}
/** The node's answer at `GET /v1/identity?challenge=<32-byte hex>`. */
export const identityResponse = z.object({
  peerId,
  /** The peer key's Ed25519 signature (base64url) over `identityChallengeMessage(challenge)`. */
  signature: z.string().max(200),
})
export type IdentityResponse = z.infer<typeof identityResponse>
/** Where a full node answers the identity challenge. */
export const IDENTITY_PATH = '/v1/identity'

/** The bytes a node's libp2p key signs to bind its peer id to its operator address. */
export function nodeBindingMessage(operator: string): Uint8Array {
  return new TextEncoder().encode(`konbini-node-binding:${operator.toLowerCase()}`)
}

/** A resource node's signed acknowledgement that an upload's DAG is durable on its disk. */
export const storageReport = z.object({
  ticketId: z.string().regex(/^0x[0-9a-fA-F]{64}$/),
  peerId,
  operator: address,
  root: z.string().max(200),
  blocks: z.number().int().nonnegative(),
  bytes: byteCount,
  issuedAt: unixSeconds,
})
export type StorageReport = z.infer<typeof storageReport>

/** Any node statement with its operator's EIP-712 signature over the canonical JSON digest. */
export function signedStatement<T extends z.ZodType>(body: T) {
  return z.object({ body, signature })
}
export const signedHeartbeat = signedStatement(heartbeat)

/** A public root the meta node asks a light peer to cache (most requested first). */
export const cacheAssignment = z.object({ root: cidString, size: byteCount })
export type CacheAssignment = z.infer<typeof cacheAssignment>

/** The meta node's answer to a heartbeat: what to serve publicly, what to refuse, and (light peers) what to cache. */
export const heartbeatResponse = z.object({
  ok: z.literal(true),
  /** Light peers: public roots to fetch into the cache, most requested first, fitting the peer's free storage. */
  cache: z.array(cacheAssignment).max(256).optional(),
  /** Roots no light peer may hold or serve: drop them from the cache and refuse wants for their blocks. */
  denylist: z.array(cidString).max(10_000).optional(),
  /**
   * Full nodes: the public roots this node holds (newest 10,000). Its gateway and Bitswap serve
   * only their blocks; every other root needs a ticket.
   */
  publicRoots: z.array(cidString).max(10_000).optional(),
  /** Light peers: spot checks of claimed holdings, answered in the next heartbeat's `proofs`. */
  proofs: z.array(holdingChallenge).max(8).optional(),
})
export type HeartbeatResponse = z.infer<typeof heartbeatResponse>

/** A light peer leaving (donation stopped): the meta node forgets its holdings at once. */
export const nodeLeave = z.object({ peerId, operator: address, issuedAt: unixSeconds })
export const signedNodeLeave = signedStatement(nodeLeave)
export type SignedNodeLeave = z.infer<typeof signedNodeLeave>
export type SignedHeartbeat = z.infer<typeof signedHeartbeat>
export const signedStorageReport = signedStatement(storageReport)
export type SignedStorageReport = z.infer<typeof signedStorageReport>

/** How a meta node sees a node: its endpoint, its state and what it measured. */
export const nodeInfo = nodeState.extend({
  lastSeen: unixSeconds,
  live: z.boolean(),
  throughputBps: z.number().nonnegative(),
  latencyMs: z.number().nonnegative(),
  successRate: z.number().min(0).max(1),
  /** Storage challenges the node failed (proof of storage): each halves its score; at AUDIT_FAILURE_LIMIT it is left out. */
  auditFailures: z.number().int().nonnegative().default(0),
  score: z.number(),
})
export type NodeInfo = z.infer<typeof nodeInfo>
