import { type DownloadTicket, QuotaExceededError, signedDownloadTicket } from '@konbini/protocol'
import { type TicketPolicy, verifyDownloadTicket } from './verify-ticket.ts'

/**
 * Download tickets this node has accepted: each is verified once (signature recovery is the
 * costly part) and then charged the bytes served under it, across sessions and paths, up to its
 * `maxBytes`.
 */
export class DownloadTickets {
  private readonly policy: TicketPolicy
  private readonly accepted = new Map<string, { ticket: DownloadTicket; served: number }>()

  constructor(policy: TicketPolicy) {
    this.policy = policy
  }

  async verify(value: unknown): Promise<DownloadTicket> {
    const parsed = signedDownloadTicket.safeParse(value)
    const known = parsed.success ? this.accepted.get(parsed.data.signature) : undefined
    if (known && known.ticket.expiresAt >= Math.floor(Date.now() / 1000)) return known.ticket
    const ticket = await verifyDownloadTicket(value, this.policy)
    this.prune()
    this.accepted.set((value as { signature: string }).signature, { ticket, served: 0 })
    return ticket
  }

  /** Counts bytes served under a ticket; refuses past its budget. */
  charge(ticket: DownloadTicket, signature: string, bytes: number): void {
    const entry = this.accepted.get(signature)
    if (entry === undefined) return
    entry.served += bytes
    if (entry.served > ticket.maxBytes) throw new QuotaExceededError({ ticketId: ticket.id, max: ticket.maxBytes })
  }

  private prune(): void {
    if (this.accepted.size < 4096) return
    const now = Math.floor(Date.now() / 1000)
    for (const [key, entry] of this.accepted) if (entry.ticket.expiresAt < now) this.accepted.delete(key)
  }
}
