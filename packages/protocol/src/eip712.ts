import { DEVNET_CHAIN_ID, EIP712_DOMAIN_NAME, EIP712_DOMAIN_VERSION } from './ids.ts'
import type { DownloadTicket, UploadTicket } from './schemas/tickets.ts'
import type { OwnerRequest } from './schemas/files.ts'

/** The EIP-712 domain every Konbini signature uses. */
export function konbiniDomain(chainId: number = DEVNET_CHAIN_ID) {
  return { name: EIP712_DOMAIN_NAME, version: EIP712_DOMAIN_VERSION, chainId } as const
}

export const uploadTicketTypes = {
  UploadTicket: [
    { name: 'id', type: 'bytes32' },
    { name: 'meta', type: 'address' },
    { name: 'owner', type: 'address' },
    { name: 'nodes', type: 'string[]' },
    { name: 'maxBytes', type: 'uint64' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const

export const downloadTicketTypes = {
  DownloadTicket: [
    { name: 'id', type: 'bytes32' },
    { name: 'meta', type: 'address' },
    { name: 'consumer', type: 'address' },
    { name: 'root', type: 'string' },
    { name: 'providers', type: 'string[]' },
    { name: 'maxBytes', type: 'uint64' },
    { name: 'epoch', type: 'uint64' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const

export const ownerRequestTypes = {
  OwnerRequest: [
    { name: 'owner', type: 'address' },
    { name: 'action', type: 'string' },
    { name: 'target', type: 'string' },
    { name: 'nonce', type: 'string' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const

/** A node's statement (heartbeat, storage report): the digest is keccak256 of its canonical JSON body. */
export const nodeStatementTypes = {
  NodeStatement: [
    { name: 'kind', type: 'string' },
    { name: 'peerId', type: 'string' },
    { name: 'digest', type: 'bytes32' },
  ],
} as const

type Hex = `0x${string}`

/** Typed-data arguments for signing or verifying an upload ticket with viem. */
export function uploadTicketTypedData(ticket: UploadTicket, chainId?: number) {
  return {
    domain: konbiniDomain(chainId),
    types: uploadTicketTypes,
    primaryType: 'UploadTicket',
    message: {
      ...ticket,
      id: ticket.id as Hex,
      meta: ticket.meta as Hex,
      owner: ticket.owner as Hex,
      maxBytes: BigInt(ticket.maxBytes),
      expiresAt: BigInt(ticket.expiresAt),
    },
  } as const
}

export function downloadTicketTypedData(ticket: DownloadTicket, chainId?: number) {
  return {
    domain: konbiniDomain(chainId),
    types: downloadTicketTypes,
    primaryType: 'DownloadTicket',
    message: {
      ...ticket,
      id: ticket.id as Hex,
      meta: ticket.meta as Hex,
      consumer: ticket.consumer as Hex,
      maxBytes: BigInt(ticket.maxBytes),
      epoch: BigInt(ticket.epoch),
      expiresAt: BigInt(ticket.expiresAt),
    },
  } as const
}

export function ownerRequestTypedData(request: OwnerRequest, chainId?: number) {
  return {
    domain: konbiniDomain(chainId),
    types: ownerRequestTypes,
    primaryType: 'OwnerRequest',
    message: { ...request, owner: request.owner as Hex, expiresAt: BigInt(request.expiresAt) },
  } as const
}

export function nodeStatementTypedData(statement: { kind: string; peerId: string; digest: Hex }, chainId?: number) {
  return {
    domain: konbiniDomain(chainId),
    types: nodeStatementTypes,
    primaryType: 'NodeStatement',
    message: statement,
  } as const
}

/** JSON with object keys sorted at every depth: the bytes a node statement digest is taken over. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
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
