import type { SignedDownloadTicket } from '@konbini/protocol'
import type { BlockSource } from './block-source.ts'
import type { ReceiptSigner } from './receipt-signer.ts'

/** A download ticket and the signer of its receipts (none for an unpaid ticket). */
export interface TicketGrant {
  ticket: SignedDownloadTicket
  receipts?: ReceiptSigner
}

/** Renew a ticket this long before it expires, as a share of its lifetime… */
const RENEW_SHARE = 1 / 3
/** …within these bounds (seconds): early enough for the wants in flight to finish under the old one. */
const RENEW_MIN_S = 2
const RENEW_MAX_S = 60
/** After a failed renewal, try again this much later (ms). */
const RETRY_MS = 2000

/**
 * The download ticket a download's sessions open with, renewed before it expires: a provider
 * serves under a ticket only until it expires (its epoch then closes and a receipt would be
 * worth nothing), so a download longer than a ticket's lifetime asks the meta node for another.
 * Sessions opened under an older ticket finish once nothing is in flight on them, sending their
 * last receipt for that ticket.
 */
export class TicketLease {
  private currentGrant: TicketGrant
  private readonly grants: TicketGrant[]
  private readonly renewOnce: (() => Promise<TicketGrant>) | undefined
  private readonly marginS: number
  private renewal: Promise<void> | undefined
  private retryAt = 0
  /** Sessions opened under an earlier ticket, with how many of their wants are still in flight. */
  private readonly retired = new Map<Promise<BlockSource>, { inflight: number; finished?: Promise<void> }>()

  constructor(first: TicketGrant, renew?: () => Promise<TicketGrant>) {
    this.currentGrant = first
    this.grants = [first]
    this.renewOnce = renew
    const lifetime = first.ticket.ticket.expiresAt - Date.now() / 1000
    this.marginS = Math.min(RENEW_MAX_S, Math.max(RENEW_MIN_S, lifetime * RENEW_SHARE))
  }

  get current(): TicketGrant {
    return this.currentGrant
  }

  /** Every ticket this download used, oldest first. */
  all(): readonly TicketGrant[] {
    return this.grants
  }

  /** Whether this lease can get a new ticket (a download can; a cache fill cannot). */
  get renewable(): boolean {
    return this.renewOnce !== undefined
  }

  /**
   * Starts a renewal when the current ticket is near its end (or `now` when a provider said it
   * expired); `onRenewed` runs once the new ticket is current. A failed renewal is retried later.
   */
  renewIfDue(onRenewed: (previous: TicketGrant) => void, now = false): void {
    if (this.renewOnce === undefined || this.renewal !== undefined || performance.now() < this.retryAt) return
    if (!now && this.currentGrant.ticket.ticket.expiresAt - Date.now() / 1000 > this.marginS) return
    const previous = this.currentGrant
    this.renewal = this.renewOnce()
      .then((next) => {
        this.currentGrant = next
        this.grants.push(next)
        onRenewed(previous)
      })
      .catch(() => {
        this.retryAt = performance.now() + RETRY_MS
      })
      .finally(() => {
        this.renewal = undefined
      })
  }

  /** The current ticket, once a renewal under way is done if this one has expired (a session opened with it would be refused). */
  async fresh(): Promise<TicketGrant> {
    if (this.renewal !== undefined && this.currentGrant.ticket.ticket.expiresAt <= Date.now() / 1000) await this.renewal
    return this.currentGrant
  }

  /** Takes a session opened under an earlier ticket out of use: it is finished once its wants in flight are answered. */
  retire(session: Promise<BlockSource>, inflight: number): void {
    this.retired.set(session, { inflight })
    this.finishIdle()
  }

  /** A want sent on `session` was answered, failed or cancelled (counted when the session is retired). */
  answered(session: Promise<BlockSource> | undefined): void {
    const entry = session === undefined ? undefined : this.retired.get(session)
    if (entry === undefined) return
    entry.inflight--
    this.finishIdle()
  }

  /** Waits for retired sessions' last receipts (the pool's finish). */
  async finishRetired(): Promise<void> {
    for (const entry of this.retired.values()) entry.inflight = 0
    this.finishIdle()
    await Promise.all([...this.retired.values()].map((e) => e.finished))
  }

  private finishIdle(): void {
    for (const [session, entry] of this.retired) {
      if (entry.inflight > 0 || entry.finished !== undefined) continue
      entry.finished = session.then((s) => s.finish()).catch(() => {})
    }
  }
}
