import {
  downloadTicketTypedData,
  type EpochArchive,
  NO_PAYER,
  type PaidTicketView,
  paidTicketView,
  type SignedReceipt,
  sessionGrantTypedData,
  uploadTicketTypedData,
} from '@konbini/protocol'
import { recoverTypedDataAddress } from 'viem'
import { verifyNodeBinding } from '../meta/verify-signatures.ts'
import { recoverReceiptSigners } from './receipt-verifier.ts'

export interface ArchiveCheck {
  /** Receipts that count (before credit limits), in archive order. */
  valid: SignedReceipt[]
  /** Session key → wallet, for the archive's grants its wallets really signed (valid at the epoch's block time). */
  grants: Map<string, string>
  /** Receipts that do not, by index, with the reason. */
  rejected: Array<{ index: number; reason: string }>
}

/**
 * Which of an archive's receipts are genuine: its ticket was signed by a whitelisted meta node for
 * this epoch and is paid, the receipt names a provider of the ticket whose operator binding holds,
 * stays within the ticket's bytes, and the ticket's consumer signed it (native secp256k1).
 */
export async function checkArchive(archive: EpochArchive, isTrustedMeta: (address: string) => boolean): Promise<ArchiveCheck> {
  const tickets = new Map<string, PaidTicketView>()
  const signed = [
    ...archive.tickets.map((t) => ({ view: paidTicketView(t), typed: downloadTicketTypedData(t.ticket, archive.chainId), signature: t.signature })),
    ...archive.uploads.map((t) => ({ view: paidTicketView(t), typed: uploadTicketTypedData(t.ticket, archive.chainId), signature: t.signature })),
  ]
  for (const { view, typed, signature } of signed) {
    const signer = await recoverTypedDataAddress({
      ...(typed as unknown as Parameters<typeof recoverTypedDataAddress>[0]),
      signature: signature as `0x${string}`,
    }).catch(() => undefined)
    if (signer?.toLowerCase() === view.meta.toLowerCase() && isTrustedMeta(signer)) tickets.set(view.id.toLowerCase(), view)
  }
  const bound = new Set<string>()
  for (const o of archive.operators) if (await verifyNodeBinding(o.peerId, o.operator, o.binding)) bound.add(o.peerId)
  const grants = new Map<string, string>()
  for (const { grant, signature } of archive.grants) {
    const wallet = await recoverTypedDataAddress({ ...sessionGrantTypedData(grant, archive.chainId), signature: signature as `0x${string}` }).catch(
      () => undefined,
    )
    if (wallet?.toLowerCase() === grant.wallet.toLowerCase()) grants.set(grant.sessionKey.toLowerCase(), grant.wallet.toLowerCase())
  }
  const signers = recoverReceiptSigners(archive.receipts, archive.chainId)
  const valid: SignedReceipt[] = []
  const rejected: ArchiveCheck['rejected'] = []
  archive.receipts.forEach((signed, index) => {
    const reason = receiptProblem(signed, tickets.get(signed.receipt.ticket.toLowerCase()), signers[index], bound, archive.epoch)
    if (reason === undefined) valid.push(signed)
    else rejected.push({ index, reason })
  })
  return { valid, grants, rejected }
}

function receiptProblem(
  { receipt }: SignedReceipt,
  ticket: PaidTicketView | undefined,
  signer: string | undefined,
  bound: Set<string>,
  epoch: number,
): string | undefined {
  if (ticket === undefined) return 'no ticket signed by a whitelisted meta node'
  if (ticket.payer.toLowerCase() === NO_PAYER) return 'the ticket is unpaid'
  if (receipt.epoch !== epoch || ticket.epoch !== epoch) return 'another epoch'
  if (!ticket.providers.includes(receipt.provider)) return 'a provider outside the ticket'
  if (!bound.has(receipt.provider)) return 'a provider with no operator binding'
  if (receipt.consumer.toLowerCase() !== ticket.consumer.toLowerCase()) return "not the ticket's consumer"
  if (receipt.bytes > ticket.maxBytes) return 'bytes beyond the ticket'
  if (signer?.toLowerCase() !== ticket.consumer.toLowerCase()) return "not signed by the ticket's consumer"
  return undefined
}
