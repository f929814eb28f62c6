import { z } from 'zod'
import { konbiniDomain } from './eip712.ts'
import { address, hex32, signature } from './schemas/common.ts'

/**
 * Proof of Traffic's signed types: traffic receipts (a consumer's signature of the bytes a
 * provider sent it under a ticket, cumulative), the grant that lets a session key sign them for a
 * wallet, the epoch report the meta quorum settles on chain, and the quorum's slash order.
 * See docs/PROTOCOL.md, "Proof of Traffic".
 */

type Hex = `0x${string}`

/**
 * A cumulative traffic receipt: the consumer's session key signs, every few MiB, the total bytes
 * `provider` (a peer id) has sent it so far under `ticket` in `epoch`. Receipts only grow: a
 * provider keeps the latest, and a replay is harmless (the largest counts, not the sum).
 */
export const receiptTypes = {
  Receipt: [
    { name: 'ticket', type: 'bytes32' },
    { name: 'consumer', type: 'address' },
    { name: 'provider', type: 'string' },
    { name: 'epoch', type: 'uint64' },
    { name: 'bytes', type: 'uint64' },
  ],
} as const

export const receipt = z.object({
  ticket: hex32,
  consumer: address,
  provider: z.string().min(1).max(100),
  epoch: z.number().int().nonnegative(),
  bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
})
export type Receipt = z.infer<typeof receipt>
export const signedReceipt = z.object({ receipt, signature })
export type SignedReceipt = z.infer<typeof signedReceipt>

/** Typed-data arguments for signing or verifying a receipt with viem. */
export function receiptTypedData(r: Receipt, chainId?: number) {
  return {
    domain: konbiniDomain(chainId),
    types: receiptTypes,
    primaryType: 'Receipt',
    message: { ...r, ticket: r.ticket as Hex, consumer: r.consumer as Hex, epoch: BigInt(r.epoch), bytes: BigInt(r.bytes) },
  } as const
}

/**
 * A wallet's one-time authorization of a session key (a tab's, the CLI's) to sign receipts, and
 * a donor tab's earnings, for it until `expiresAt` (unix seconds).
 */
export const sessionGrantTypes = {
  SessionGrant: [
    { name: 'wallet', type: 'address' },
    { name: 'sessionKey', type: 'address' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const

export const sessionGrant = z.object({ wallet: address, sessionKey: address, expiresAt: z.number().int().positive() })
export type SessionGrant = z.infer<typeof sessionGrant>

/** Typed-data arguments for signing or verifying a session grant with viem. */
export function sessionGrantTypedData(g: SessionGrant, chainId?: number) {
  return {
    domain: konbiniDomain(chainId),
    types: sessionGrantTypes,
    primaryType: 'SessionGrant',
    message: { ...g, wallet: g.wallet as Hex, sessionKey: g.sessionKey as Hex, expiresAt: BigInt(g.expiresAt) },
  } as const
}

/**
 * An epoch's volume report as the meta quorum signs it for `Settlement.submitReport` (the domain
 * adds the settlement contract's address). Totals are cumulative over all epochs, in token units.
 */
export const epochReportTypes = {
  Report: [
    { name: 'epoch', type: 'uint64' },
    { name: 'rewardRoot', type: 'bytes32' },
    { name: 'spendRoot', type: 'bytes32' },
    { name: 'totalRewards', type: 'uint96' },
    { name: 'totalSpent', type: 'uint96' },
    { name: 'archiveCid', type: 'bytes' },
  ],
} as const

export interface EpochReport {
  epoch: bigint
  rewardRoot: Hex
  spendRoot: Hex
  totalRewards: bigint
  totalSpent: bigint
  /** The receipts archive's CID, as bytes. */
  archiveCid: Hex
}

/** Typed-data arguments for signing or verifying an epoch report with viem. */
export function epochReportTypedData(report: EpochReport, chainId: number, settlement: Hex) {
  return {
    domain: { ...konbiniDomain(chainId), verifyingContract: settlement },
    types: epochReportTypes,
    primaryType: 'Report',
    message: report,
  } as const
}

/** A quorum's order to burn part of a node's stake (`Registry.slash`). */
export const slashTypes = {
  Slash: [
    { name: 'node', type: 'bytes32' },
    { name: 'amount', type: 'uint96' },
    { name: 'nonce', type: 'uint64' },
  ],
} as const

/** Typed-data arguments for signing a slash order with viem. */
export function slashTypedData(order: { node: Hex; amount: bigint; nonce: bigint }, chainId: number, registry: Hex) {
  return {
    domain: { ...konbiniDomain(chainId), verifyingContract: registry },
    types: slashTypes,
    primaryType: 'Slash',
    message: order,
  } as const
}
