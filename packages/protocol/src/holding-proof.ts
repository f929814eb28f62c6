import { sha256 } from 'multiformats/hashes/sha2'
import { z } from 'zod'
import { cidString } from './schemas/common.ts'

/**
 * A meta node's spot check of a light peer's claimed holding, sent in a heartbeat answer: "prove
 * you hold block `cid` of `root`". The peer answers in its next heartbeat with
 * `holdingProofDigest(nonce, block)`; the meta node, which read the same block from a full holder,
 * checks it. Until a holding is proven the peer is not ranked as a provider of that root.
 */
export const holdingChallenge = z.object({
  root: cidString,
  cid: cidString,
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
})
export type HoldingChallenge = z.infer<typeof holdingChallenge>

/** A light peer's answer to a holding challenge (inside its signed heartbeat). */
export const holdingProof = holdingChallenge.extend({ digest: z.string().regex(/^[0-9a-f]{64}$/) })
export type HoldingProof = z.infer<typeof holdingProof>

/** sha256(nonce bytes ‖ block bytes), hex: only a holder of the block can compute it for a fresh nonce. */
export async function holdingProofDigest(nonce: string, block: Uint8Array): Promise<string> {
  const nonceBytes = Uint8Array.from(nonce.match(/../g) ?? [], (h) => Number.parseInt(h, 16))
  const input = new Uint8Array(nonceBytes.byteLength + block.byteLength)
  input.set(nonceBytes)
  input.set(block, nonceBytes.byteLength)
  const digest = (await sha256.digest(input)).digest
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('')
}
