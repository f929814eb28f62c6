import { QuotaExceededError, type UploadTicket, UploadTicketUsedError } from '@konbini/protocol'

interface Use {
  bytes: number
  used: boolean
  expiresAt: number
}

/**
 * What each upload ticket has stored on this node: block bytes received under it across every
 * request (a browser sends an upload in parts) within its `maxBytes`, and whether its upload is
 * done — a ticket stores one upload, once. It also remembers which blocks each owner's tickets
 * really sent, so an upload can claim a root only with bytes its owner sent (or a public root's):
 * naming someone's private root in an End frame claims nothing. Kept in memory until the tickets
 * expire (a restarted node forgets: a ticket could then store up to its budget once more before
 * it expires, and a resumed upload sends its blocks again).
 */
export class UploadTicketUse {
  private readonly uses = new Map<string, Use>()
  /** Owner (lower-case) → block CID → when that owner's ticket that sent it expires. */
  private readonly sent = new Map<string, Map<string, number>>()

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

  /** Remembers that the ticket's owner sent this block (until the ticket expires). */
  received(ticket: UploadTicket, cid: string): void {
    const owner = ticket.owner.toLowerCase()
    let blocks = this.sent.get(owner)
    if (blocks === undefined) {
      blocks = new Map()
      this.sent.set(owner, blocks)
    }
    blocks.set(cid, Math.max(blocks.get(cid) ?? 0, ticket.expiresAt))
  }

  /** Whether an unexpired ticket of this owner sent the block here. */
  sentBy(owner: string, cid: string): boolean {
    const expiresAt = this.sent.get(owner.toLowerCase())?.get(cid)
    return expiresAt !== undefined && expiresAt >= Math.floor(Date.now() / 1000)
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
    for (const [owner, blocks] of this.sent) {
      for (const [cid, expiresAt] of blocks) if (expiresAt < now) blocks.delete(cid)
      if (blocks.size === 0) this.sent.delete(owner)
    }
  }
}
