import { z } from 'zod'
import { konbiniDomain } from './eip712.ts'
import { MAX_RECEIPTS_PER_POST } from './ids.ts'
import { keccak256, toHex } from 'viem'
import { address, cidString, hex32, peerId, signature } from './schemas/common.ts'
import { type SignedDownloadTicket, type SignedUploadTicket, signedDownloadTicket, signedUploadTicket } from './schemas/tickets.ts'

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
/** `POST /v1/grants`: a wallet's signed grant (the session key then spends its credit and earns for it). */
export const signedSessionGrant = z.object({ grant: sessionGrant, signature })
export type SignedSessionGrant = z.infer<typeof signedSessionGrant>

/** `GET /v1/grants/{sessionKey}`: the grant a wallet gave that key, valid now, or null. */
export const grantOfResponse = z.object({ grant: signedSessionGrant.nullable() })
export type GrantOfResponse = z.infer<typeof grantOfResponse>

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

/** Token amounts on the wire: decimal strings of wei (18 decimals). */
export const weiAmount = z.string().regex(/^[0-9]{1,40}$/, 'a decimal amount in wei')

/** The one nonce a node's slash order uses (the Registry refuses a used nonce: a node is slashed once). */
export function slashNonce(peerId: string): bigint {
  return BigInt(keccak256(toHex(`konbini-slash:${peerId}`)).slice(0, 18))
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

/** `POST /v1/receipts` (to a provider from its consumer, and to a meta node from a provider). */
export const receiptsRequest = z.object({ receipts: z.array(signedReceipt).min(1).max(MAX_RECEIPTS_PER_POST) })
export type ReceiptsRequest = z.infer<typeof receiptsRequest>
export const receiptsResponse = z.object({
  accepted: z.number().int().nonnegative(),
  /** Receipts not counted, by index in the request, with the named reason. */
  rejected: z.array(z.object({ index: z.number().int(), error: z.object({ name: z.string(), message: z.string() }) })),
})
export type ReceiptsResponse = z.infer<typeof receiptsResponse>

/** A settled epoch's report as a meta node publishes it. */
export const settledReport = z.object({
  epoch: z.number().int().positive(),
  rewardRoot: hex32,
  spendRoot: hex32,
  totalRewards: weiAmount,
  totalSpent: weiAmount,
  archiveCid: z.string(),
  txHash: hex32,
  gasUsed: z.number().int().nonnegative(),
})
export type SettledReport = z.infer<typeof settledReport>

/** `GET /v1/epoch`: the open epoch and the last report settled on chain. */
export const epochResponse = z.object({
  epoch: z.number().int().positive(),
  /** Unix seconds. */
  endsAt: z.number().int(),
  lastReport: settledReport.nullable(),
})
export type EpochResponse = z.infer<typeof epochResponse>

/** `GET /v1/rewards/{account}`: an account's cumulative earnings in the latest settled reward tree, with its proof. */
export const rewardsResponse = z.object({
  account: address,
  /** The settled epoch the amount and proof belong to (0: none yet). */
  epoch: z.number().int().nonnegative(),
  cumulative: weiAmount,
  proof: z.array(hex32),
  /** Earned in each settled epoch (not cumulative), newest last. */
  epochs: z.array(z.object({ epoch: z.number().int().positive(), earned: weiAmount })),
  /** What the receipts received so far in the open epoch would earn (before credit limits). */
  pending: weiAmount,
})
export type RewardsResponse = z.infer<typeof rewardsResponse>

/** `GET /v1/credit/{account}`: an account's cumulative spend in the latest settled spend tree, with its proof (for `Credit.withdraw`). */
export const spendResponse = z.object({
  account: address,
  epoch: z.number().int().nonnegative(),
  cumulativeSpent: weiAmount,
  proof: z.array(hex32),
  /** Spent by receipts received in the open epoch, not settled yet. */
  pending: weiAmount,
})
export type SpendResponse = z.infer<typeof spendResponse>

/**
 * An epoch's receipts archive, as the meta node publishes it on the network (its CID goes into
 * the report): everything a co-signer needs, with the chain, to recompute the report's roots.
 * It reveals which consumer downloaded which root from which provider, and how many bytes: what
 * verifying a receipt against its ticket needs (docs/PROTOCOL.md says so).
 */
export const epochArchive = z.object({
  version: z.literal(1),
  epoch: z.number().int().positive(),
  chainId: z.number().int().positive(),
  settlement: address,
  /** The chain block whose state (credit, caps, depositors, emission) the report was computed at. */
  block: z.number().int().nonnegative(),
  price: weiAmount,
  emission: weiAmount,
  /** The cumulative trees before this epoch: `[account, amount]`. */
  previous: z.object({
    epoch: z.number().int().nonnegative(),
    rewards: z.array(z.tuple([address, weiAmount])),
    spends: z.array(z.tuple([address, weiAmount])),
  }),
  /** Each paying account's usable credit at `block` (after earlier spends and requested withdrawals) and spend cap. */
  credit: z.array(z.object({ payer: address, available: weiAmount, cap: weiAmount })),
  /** Every account that has deposited credit by `block` (each gets a spend leaf, spent or not). */
  depositors: z.array(address),
  /** Who earns for each provider: the operator its peer key bound itself to (Ed25519 binding). */
  operators: z.array(z.object({ peerId: z.string(), operator: address, binding: z.string() })),
  /** Wallets' grants to session keys (operators of donor tabs, consumers' keys): the wallet earns and pays for them. */
  grants: z.array(signedSessionGrant).default([]),
  tickets: z.array(signedDownloadTicket),
  /** Paid upload tickets named by receipts (the owner's receipts for each replica's received bytes). */
  uploads: z.array(signedUploadTicket).default([]),
  /** Receipts in the order they are counted (the meta node's order of arrival). */
  receipts: z.array(signedReceipt),
})
export type EpochArchive = z.infer<typeof epochArchive>

/** The report fields a meta node asks its peers to co-sign (amounts in wei, the archive by CID). */
export const reportToSign = z.object({
  epoch: z.number().int().positive(),
  rewardRoot: hex32,
  spendRoot: hex32,
  totalRewards: weiAmount,
  totalSpent: weiAmount,
  archiveCid: z.string().max(200),
})
export type ReportToSign = z.infer<typeof reportToSign>

/** `POST /v1/epochs/cosign`: a co-signer recomputes the report from its archive and the chain, then signs it. */
export const cosignRequest = z.object({
  report: reportToSign,
  /** Gateways that hold the archive (the co-signer checks every block against the CID). */
  holders: z.array(z.url()).max(16).default([]),
})
export type CosignRequest = z.infer<typeof cosignRequest>
export const cosignResponse = z.object({ signer: address, signature })

/**
 * `POST /v1/slashes/cosign` (meta → meta): co-sign an order slashing `amount` of a node's stake
 * (nonce: `slashNonce(peerId)`, so a node is slashed once) because it failed its storage audits.
 * The co-signer audits the node for `root` itself and signs only if the node fails.
 */
export const slashCosignRequest = z.object({
  peerId,
  root: cidString,
  amount: weiAmount,
  nonce: z.string().regex(/^[0-9]{1,20}$/),
})
export type SlashCosignRequest = z.infer<typeof slashCosignRequest>
export type CosignResponse = z.infer<typeof cosignResponse>

/** What Proof of Traffic reads from a paid ticket of either kind: who pays, who signs receipts, who may earn under it. */
export interface PaidTicketView {
  kind: 'download' | 'upload'
  id: string
  meta: string
  payer: string
  /** Who signs the receipts: the downloader, or the uploading owner. */
  consumer: string
  /** Who may earn: the download's providers, or the upload's replica nodes. */
  providers: readonly string[]
  maxBytes: number
  epoch: number
}

/** The Proof of Traffic view of a download or an upload ticket. */
export function paidTicketView(signed: SignedDownloadTicket | SignedUploadTicket): PaidTicketView {
  const t = signed.ticket
  return 'owner' in t
    ? { kind: 'upload', id: t.id, meta: t.meta, payer: t.payer, consumer: t.owner, providers: t.nodes, maxBytes: t.maxBytes, epoch: t.epoch }
    : { kind: 'download', id: t.id, meta: t.meta, payer: t.payer, consumer: t.consumer, providers: t.providers, maxBytes: t.maxBytes, epoch: t.epoch }
}
