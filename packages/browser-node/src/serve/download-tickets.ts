import {
  ContentDeniedError,
  type DownloadTicket,
  MAX_UNSIGNED_BYTES,
  NO_PAYER,
  parseWith,
  QuotaExceededError,
  RECEIPT_WAIT_MS,
  ReceiptForgedError,
  ReceiptScopeError,
  ReceiptsOverdueError,
  type SignedReceipt,
  signedDownloadTicket,
  signedReceipt,
  TicketExpiredError,
  TicketScopeError,
} from '@konbini/protocol'
import type { CID } from 'multiformats/cid'
import type { ServedBlocks } from './block-exchange.ts'
import { DagScope } from './dag-scope.ts'
import { type RecoverReceiptSigner, recoverReceiptSignerWithViem } from './recover-receipt.ts'
import { type TicketPolicy, verifyDownloadTicket } from './verify-ticket.ts'

export interface DownloadTicketsInit extends TicketPolicy {
  /** The blocks this node serves: a ticket serves only those under its root. */
  blocks: ServedBlocks
  /** How a receipt's signer is recovered (full nodes pass native secp256k1; default: viem). */
  recoverReceiptSigner?: RecoverReceiptSigner
  /** How long a paid session waits for an overdue receipt before it ends (ms). */
  receiptWaitMs?: number
  /** Whether a root or block is denylisted: no ticket serves it (ContentDeniedError, 451). */
  isDenied?: (cid: string) => boolean
}

interface Accepted {
  ticket: DownloadTicket
  served: number
  /** Bytes served that the consumer dropped unread (an HTTP answer it abandoned): not in the unsigned tail, at most `MAX_UNSIGNED_BYTES`. */
  dropped: number
  /** Bytes covered by the latest valid receipt. */
  signed: number
  latest?: SignedReceipt
  /** The latest receipt has not been handed to a meta node yet. */
  unsent: boolean
  /** Sessions waiting for a receipt. */
  waiters: Array<() => void>
}

/**
 * Download tickets this node has accepted: each is verified once (signature recovery is the
 * costly part) and then charged the bytes served under it, across sessions and paths, up to its
 * `maxBytes`. For a paid ticket it also keeps the consumer's latest receipt and holds back
 * blocks once `MAX_UNSIGNED_BYTES` are served beyond it (Proof of Traffic).
 */
export class DownloadTickets {
  private readonly init: DownloadTicketsInit
  private readonly accepted = new Map<string, Accepted>()
  private readonly byId = new Map<string, Accepted>()
  private readonly scope: DagScope

  constructor(init: DownloadTicketsInit) {
    this.init = init
    this.scope = new DagScope(init.blocks)
  }

  /**
   * Throws TicketScopeError unless `cid` is the ticket's root or a block under it (as this node
   * holds the DAG), and ContentDeniedError when either is denylisted.
   */
  async assertInRoot(ticket: DownloadTicket, cid: CID): Promise<void> {
    const denied = this.init.isDenied
    if (denied !== undefined && (denied(ticket.root) || denied(cid.toString()))) throw new ContentDeniedError({ cid: ticket.root })
    if (!(await this.scope.contains(ticket.root, cid))) throw new TicketScopeError({ ticketId: ticket.id, reason: `${cid} is not in the DAG of its root` })
  }

  /** The ticket, once its signature, signer, expiry and naming of this node are checked; ContentDeniedError when its root is denylisted. */
  async verify(value: unknown): Promise<DownloadTicket> {
    const ticket = await this.verifySignature(value)
    if (this.init.isDenied?.(ticket.root)) throw new ContentDeniedError({ cid: ticket.root })
    return ticket
  }

  private async verifySignature(value: unknown): Promise<DownloadTicket> {
    const parsed = signedDownloadTicket.safeParse(value)
    const known = parsed.success ? this.accepted.get(parsed.data.signature) : undefined
    // a ticket accepted earlier is taken again only while its meta node is still trusted (one kicked by vote is not)
    if (known && known.ticket.expiresAt >= Math.floor(Date.now() / 1000) && this.init.trustedMetas.includes(known.ticket.meta.toLowerCase()))
      return known.ticket
    const ticket = await verifyDownloadTicket(value, this.init)
    this.prune()
    const entry: Accepted = { ticket, served: 0, dropped: 0, signed: 0, unsent: false, waiters: [] }
    this.accepted.set((value as { signature: string }).signature, entry)
    this.byId.set(ticket.id.toLowerCase(), entry)
    return ticket
  }

  /**
   * Waits until `bytes` more fit in the ticket's unsigned tail: at once for an unpaid ticket or
   * one with receipts up to date, else until the consumer's next receipt, at most `receiptWaitMs`.
   */
  async awaitReceiptRoom(ticket: DownloadTicket, bytes: number, signal?: AbortSignal): Promise<void> {
    if (ticket.payer.toLowerCase() === NO_PAYER) return
    const entry = this.byId.get(ticket.id.toLowerCase())
    if (entry === undefined) return
    const deadline = performance.now() + (this.init.receiptWaitMs ?? RECEIPT_WAIT_MS)
    while (entry.served - entry.dropped + bytes - entry.signed > MAX_UNSIGNED_BYTES) {
      const left = deadline - performance.now()
      if (left <= 0 || signal?.aborted) throw new ReceiptsOverdueError({ ticketId: ticket.id, unsigned: entry.served - entry.signed })
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left)
        function done() {
          clearTimeout(timer)
          signal?.removeEventListener('abort', done)
          resolve()
        }
        entry.waiters.push(done)
        signal?.addEventListener('abort', done, { once: true })
      })
    }
  }

  /**
   * Counts bytes served under a ticket; refuses past its budget, and once it has expired: its
   * epoch then closes, and a receipt for more bytes would be worth nothing (the consumer renews it).
   */
  charge(ticket: DownloadTicket, signature: string, bytes: number): void {
    if (ticket.expiresAt < Math.floor(Date.now() / 1000)) throw new TicketExpiredError({ ticketId: ticket.id })
    const entry = this.accepted.get(signature)
    if (entry === undefined) return
    entry.served += bytes
    if (entry.served > ticket.maxBytes) throw new QuotaExceededError({ ticketId: ticket.id, max: ticket.maxBytes })
  }

  /**
   * Takes back from the unsigned tail `bytes` served under a ticket that the consumer provably
   * did not read: it abandoned the HTTP answer carrying them (a want another provider answered
   * first). A consumer signs only for what it received, so without this every such block would
   * stay unsigned for good and the provider would end up holding back every block. At most
   * `MAX_UNSIGNED_BYTES` per ticket: a consumer that drops answers on purpose (after reading
   * nearly all of a block) gains at most that much more unpaid service. The bytes still count
   * against the ticket's budget.
   */
  forgive(ticket: DownloadTicket, bytes: number): void {
    const entry = this.byId.get(ticket.id.toLowerCase())
    if (entry === undefined || ticket.payer.toLowerCase() === NO_PAYER) return
    entry.dropped = Math.min(entry.dropped + bytes, MAX_UNSIGNED_BYTES)
    for (const wake of entry.waiters.splice(0)) wake()
  }

  /**
   * Takes a consumer's receipt for a ticket this node serves: it must name this node, the
   * ticket's consumer and epoch, stay within the ticket's budget and be signed by the consumer.
   * A receipt for no more bytes than the latest is harmless and ignored (receipts are cumulative).
   */
  async acceptReceipt(value: unknown): Promise<void> {
    const { receipt, signature } = parseWith(signedReceipt, value)
    const entry = this.byId.get(receipt.ticket.toLowerCase())
    const scope = (reason: string) => new ReceiptScopeError({ ticketId: receipt.ticket, reason })
    if (entry === undefined) throw scope('this node has not served that ticket')
    const { ticket } = entry
    if (ticket.payer.toLowerCase() === NO_PAYER) throw scope('the ticket is unpaid')
    if (receipt.provider !== this.init.peerId) throw scope('it names another provider')
    if (receipt.consumer.toLowerCase() !== ticket.consumer.toLowerCase()) throw scope("it names another consumer than the ticket's")
    if (receipt.epoch !== ticket.epoch) throw scope("its epoch is not the ticket's")
    if (receipt.bytes > ticket.maxBytes) throw scope(`it claims more than the ticket's ${ticket.maxBytes} bytes`)
    if (receipt.bytes <= entry.signed) return
    const signer = await (this.init.recoverReceiptSigner ?? recoverReceiptSignerWithViem)({ receipt, signature }, this.init.chainId)
    if (signer?.toLowerCase() !== ticket.consumer.toLowerCase()) throw new ReceiptForgedError({ ticketId: ticket.id })
    if (receipt.bytes <= entry.signed) return
    entry.signed = receipt.bytes
    entry.latest = { receipt, signature }
    entry.unsent = true
    for (const wake of entry.waiters.splice(0)) wake()
  }

  /** The latest receipts not yet handed to a meta node; marks them handed. Put them back with `unsent()` when the hand-over fails. */
  takeUnsent(max: number): SignedReceipt[] {
    const out: SignedReceipt[] = []
    for (const entry of this.byId.values()) {
      if (out.length >= max) break
      if (entry.unsent && entry.latest) {
        entry.unsent = false
        out.push(entry.latest)
      }
    }
    return out
  }

  /** Marks receipts as not handed over (a failed post to the meta node), unless a newer one came meanwhile. */
  unsent(receipts: readonly SignedReceipt[]): void {
    for (const r of receipts) {
      const entry = this.byId.get(r.receipt.ticket.toLowerCase())
      if (entry?.latest === r) entry.unsent = true
    }
  }

  private prune(): void {
    if (this.accepted.size < 4096) return
    const now = Math.floor(Date.now() / 1000)
    for (const [key, entry] of this.accepted) {
      // a ticket whose latest receipt still waits for the meta node is kept
      if (entry.ticket.expiresAt < now && !entry.unsent) {
        this.accepted.delete(key)
        this.byId.delete(entry.ticket.id.toLowerCase())
      }
    }
  }
}
