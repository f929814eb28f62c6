import { keccak256, toHex } from 'viem'
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
    { name: 'payer', type: 'address' },
    { name: 'nodes', type: 'string[]' },
    { name: 'urls', type: 'string[]' },
    { name: 'maxBytes', type: 'uint64' },
    { name: 'epoch', type: 'uint64' },
    { name: 'expiresAt', type: 'uint64' },
  ],
} as const

export const downloadTicketTypes = {
  DownloadTicket: [
    { name: 'id', type: 'bytes32' },
    { name: 'meta', type: 'address' },
    { name: 'consumer', type: 'address' },
    { name: 'payer', type: 'address' },
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
      payer: ticket.payer as Hex,
      maxBytes: BigInt(ticket.maxBytes),
      epoch: BigInt(ticket.epoch),
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
      payer: ticket.payer as Hex,
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

/** keccak256 of a value's canonical JSON: the digest node statements, placements and reports sign. */
export function canonicalDigest(value: unknown): Hex {
  return keccak256(toHex(canonicalJson(value)))
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
