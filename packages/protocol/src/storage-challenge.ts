import { z } from 'zod'
import { cidString, peerId, signature, unixSeconds } from './schemas/common.ts'

/**
 * A meta node's audit of a holder (`POST /v1/challenge`): "send me these blocks, now". The meta
 * node walks a random path from a root to a leaf, one challenge per step, checking every block
 * against its CID, so a node that does not keep the blocks cannot answer — whatever it reported.
 * Signed by the meta node (a `NodeStatement` of kind `challenge` over the digest of
 * `challenge`), because a challenge reads blocks of private roots that no stranger may read.
 */
export const storageChallenge = z.object({
  peerId,
  cids: z.array(cidString).min(1).max(4),
  issuedAt: unixSeconds,
  /** Random: two challenges are never the same request. */
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
})
export type StorageChallenge = z.infer<typeof storageChallenge>
export const signedStorageChallenge = z.object({ challenge: storageChallenge, signature })
export type SignedStorageChallenge = z.infer<typeof signedStorageChallenge>

/**
 * Storage challenges a node may fail before it is placed on, repaired to and downloaded from no
 * more; each failure halves its score until then.
 */
export const AUDIT_FAILURE_LIMIT = 3

/** What a node's audit record leaves of its score: halved per failure, 0 at the limit. */
export function auditFactor(auditFailures: number): number {
  return auditFailures >= AUDIT_FAILURE_LIMIT ? 0 : 0.5 ** auditFailures
}

/** How far a challenge's `issuedAt` may be from the node's clock. */
export const CHALLENGE_SKEW_SECONDS = 60
