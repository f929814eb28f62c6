import { randomBytes } from 'node:crypto'
import {
  canonicalDigest,
  type DownloadTicket,
  nodeStatementTypedData,
  type ReplicateOrder,
  type ReplicateRequest,
  downloadTicketTypedData,
  type SignedDownloadTicket,
  type SignedStorageChallenge,
  type SignedUploadTicket,
  type StorageChallenge,
  type UploadTicket,
  uploadTicketTypedData,
} from '@konbini/protocol'
import type { PrivateKeyAccount } from 'viem/accounts'

/** How long an upload ticket stays valid: long enough for a large upload to start. */
export const UPLOAD_TICKET_SECONDS = 3600
/** Byte budget above the payload: dag-pb nodes and a retried block or two. */
export function byteBudget(size: number): number {
  return Math.ceil(size * 1.02) + 4 * 1024 * 1024
}

/** Signs tickets with the meta node's own key (EIP-712). */
export class TicketIssuer {
  private readonly account: PrivateKeyAccount
  private readonly chainId: number
  /** A download ticket's lifetime: providers serve under it only until it expires. */
  private readonly downloadSeconds: number

  constructor(account: PrivateKeyAccount, chainId: number, downloadSeconds: number) {
    this.account = account
    this.chainId = chainId
    this.downloadSeconds = downloadSeconds
  }

  get address(): string {
    return this.account.address
  }

  async upload(fields: Pick<UploadTicket, 'owner' | 'payer' | 'nodes' | 'urls' | 'maxBytes' | 'epoch'>, now: number): Promise<SignedUploadTicket> {
    const ticket: UploadTicket = { id: newTicketId(), meta: this.account.address, expiresAt: now + UPLOAD_TICKET_SECONDS, ...fields }
    const signature = await this.account.signTypedData(uploadTicketTypedData(ticket, this.chainId))
    return { ticket, signature }
  }

  /** Signs a storage challenge (a `NodeStatement` of kind `challenge` over its digest): nodes answer only trusted meta nodes' challenges. */
  async challenge(challenge: StorageChallenge): Promise<SignedStorageChallenge> {
    const digest = canonicalDigest(challenge)
    const signature = await this.account.signTypedData(nodeStatementTypedData({ kind: 'challenge', peerId: challenge.peerId, digest }, this.chainId))
    return { challenge, signature }
  }

  /** Signs a repair order for `peerId` (a `NodeStatement` of kind `replicate` over the order's digest): nodes take orders only from trusted meta nodes. */
  async replicateOrder(peerId: string, order: ReplicateOrder): Promise<ReplicateRequest> {
    const digest = canonicalDigest(order)
    const signature = await this.account.signTypedData(nodeStatementTypedData({ kind: 'replicate', peerId, digest }, this.chainId))
    return { ...order, signature }
  }

  async download(fields: Pick<DownloadTicket, 'consumer' | 'payer' | 'root' | 'providers' | 'maxBytes' | 'epoch'>, now: number): Promise<SignedDownloadTicket> {
    const ticket: DownloadTicket = {
      id: newTicketId(),
      meta: this.account.address,
      expiresAt: now + this.downloadSeconds,
      ...fields,
    }
    const signature = await this.account.signTypedData(downloadTicketTypedData(ticket, this.chainId))
    return { ticket, signature }
  }
}

function newTicketId(): string {
  return `0x${randomBytes(32).toString('hex')}`
}
