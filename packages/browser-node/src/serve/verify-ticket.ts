import {
  type DownloadTicket,
  downloadTicketTypedData,
  signedDownloadTicket,
  signedUploadTicket,
  TicketExpiredError,
  TicketForgedError,
  TicketMissingError,
  TicketScopeError,
  type UploadTicket,
  UntrustedMetaError,
  uploadTicketTypedData,
  parseWith,
} from '@konbini/protocol'
import { recoverTypedDataAddress } from 'viem'

export interface TicketPolicy {
  /** Lower-case meta addresses whose signatures this node accepts. */
  trustedMetas: readonly string[]
  chainId: number
  /** This node's peer id: a ticket must name it. */
  peerId: string
  now?: () => number
}

function checkCommon(ticket: { id: string; meta: string; expiresAt: number }, signer: string, policy: TicketPolicy): void {
  if (signer.toLowerCase() !== ticket.meta.toLowerCase()) throw new TicketForgedError({ ticketId: ticket.id })
  if (!policy.trustedMetas.includes(signer.toLowerCase())) throw new UntrustedMetaError({ meta: signer })
  const now = policy.now?.() ?? Math.floor(Date.now() / 1000)
  if (ticket.expiresAt < now) throw new TicketExpiredError({ ticketId: ticket.id })
}

async function recover(typedData: Parameters<typeof recoverTypedDataAddress>[0], ticketId: string): Promise<string> {
  try {
    return await recoverTypedDataAddress(typedData)
  } catch {
    throw new TicketForgedError({ ticketId })
  }
}

/** Checks an upload ticket: signed by a trusted meta, unexpired, naming this node. */
export async function verifyUploadTicket(value: unknown, policy: TicketPolicy): Promise<UploadTicket> {
  if (value === undefined || value === null) throw new TicketMissingError()
  const { ticket, signature } = parseWith(signedUploadTicket, value)
  const signer = await recover({ ...uploadTicketTypedData(ticket, policy.chainId), signature: signature as `0x${string}` }, ticket.id)
  checkCommon(ticket, signer, policy)
  if (!ticket.nodes.includes(policy.peerId)) throw new TicketScopeError({ ticketId: ticket.id, reason: 'it does not place data on this node' })
  return ticket
}

/** Checks a download ticket: signed by a trusted meta, unexpired, naming this node as a provider. */
export async function verifyDownloadTicket(value: unknown, policy: TicketPolicy): Promise<DownloadTicket> {
  if (value === undefined || value === null) throw new TicketMissingError()
  const { ticket, signature } = parseWith(signedDownloadTicket, value)
  const signer = await recover({ ...downloadTicketTypedData(ticket, policy.chainId), signature: signature as `0x${string}` }, ticket.id)
  checkCommon(ticket, signer, policy)
  if (!ticket.providers.includes(policy.peerId)) throw new TicketScopeError({ ticketId: ticket.id, reason: 'it does not name this node as a provider' })
  return ticket
}
