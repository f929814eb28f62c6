import { QuotaExceededError, type UploadTicket, UploadTicketUsedError } from '@konbini/protocol'

interface Use {
  bytes: number
  used: boolean
  expiresAt: number
}

/**
 * What each upload ticket has stored on this node: block bytes received under it across every
 * request (a browser sends an upload in parts) within its `maxBytes`, and whether its upload is
 * done — a ticket stores one upload, once. Kept in memory until the ticket expires (a restarted
 * node forgets: a ticket could then store up to its budget once more before it expires).
 */
export class UploadTicketUse {
  private readonly uses = new Map<string, Use>()

  /** Throws UploadTicketUsedError once the ticket's upload is done. */
  assertOpen(ticket: UploadTicket): void {
    if (this.uses.get(ticket.id.toLowerCase())?.used) throw new UploadTicketUsedError({ ticketId: ticket.id })
  }

  /** Counts `bytes` received under the ticket; throws QuotaExceededError past its budget. */
  charge(ticket: UploadTicket, bytes: number): void {
    const use = this.of(ticket)
    use.bytes += bytes
    if (use.bytes > ticket.maxBytes) throw new QuotaExceededError({ ticketId: ticket.id, max: ticket.maxBytes })
  }

  /** The ticket's upload is done (its End frame, a whole DAG): the ticket stores nothing more. */
  finish(ticket: UploadTicket): void {
    this.of(ticket).used = true
  }

  private of(ticket: UploadTicket): Use {
    const id = ticket.id.toLowerCase()
    let use = this.uses.get(id)
    if (use === undefined) {
      this.prune()
      use = { bytes: 0, used: false, expiresAt: ticket.expiresAt }
      this.uses.set(id, use)
    }
    return use
  }

  private prune(): void {
    const now = Math.floor(Date.now() / 1000)
    for (const [id, use] of this.uses) if (use.expiresAt < now) this.uses.delete(id)
  }
}
