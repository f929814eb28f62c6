import {
  ChainUnavailableError,
  EpochClosedError,
  NO_PAYER,
  paidTicketView,
  ReceiptForgedError,
  ReceiptReplayedError,
  type ReceiptsRequest,
  type ReceiptsResponse,
  ReceiptScopeError,
  toWireError,
} from '@konbini/protocol'
import { recoverReceiptSigners } from '../pot/receipt-verifier.ts'
import type { MetaContext } from './context.ts'

/**
 * Takes receipts from providers (anyone may hand them in: each is signed by its consumer under a
 * ticket this meta node issued). Each is checked — ticket known and paid, provider named by it,
 * consumer and epoch its own, bytes within it, signature its consumer's, epoch still open — and
 * the largest per (ticket, provider) is kept, in the database before the answer.
 */
export async function acceptReceipts(ctx: MetaContext, { receipts }: ReceiptsRequest): Promise<ReceiptsResponse> {
  if (ctx.epochs === undefined) throw new ChainUnavailableError({ reason: 'receipts are not counted' })
  const signers = recoverReceiptSigners(receipts, ctx.epochs.chainId)
  const answer: ReceiptsResponse = { accepted: 0, rejected: [] }
  const open = new Map<number, boolean>()
  for (const [index, signed] of receipts.entries()) {
    const r = signed.receipt
    try {
      const stored = await ctx.pot.getTicket(r.ticket)
      const scope = (reason: string) => new ReceiptScopeError({ ticketId: r.ticket, reason })
      if (stored === undefined) throw scope('this meta node issued no paid ticket with that id')
      const ticket = paidTicketView(stored)
      if (ticket.payer.toLowerCase() === NO_PAYER) throw scope('the ticket is unpaid')
      if (!ticket.providers.includes(r.provider)) throw scope('it names a provider outside the ticket')
      if (r.consumer.toLowerCase() !== ticket.consumer.toLowerCase()) throw scope("it names another consumer than the ticket's")
      if (r.epoch !== ticket.epoch) throw scope("its epoch is not the ticket's")
      if (r.bytes > ticket.maxBytes) throw scope(`it claims more than the ticket's ${ticket.maxBytes} bytes`)
      if (signers[index]?.toLowerCase() !== ticket.consumer.toLowerCase()) throw new ReceiptForgedError({ ticketId: r.ticket })
      if (!open.has(r.epoch)) open.set(r.epoch, (await ctx.pot.getEpoch(r.epoch))?.state === 'open')
      if (!open.get(r.epoch)) throw new EpochClosedError({ epoch: r.epoch })
      if (!(await ctx.pot.putReceipt(signed, ticket))) throw new ReceiptReplayedError({ ticketId: r.ticket, bytes: r.bytes })
      answer.accepted++
    } catch (err) {
      answer.rejected.push({ index, error: toWireError(err).body.error })
    }
  }
  ctx.metrics.inc('konbini_receipts_accepted_total', answer.accepted)
  ctx.metrics.inc('konbini_receipts_rejected_total', answer.rejected.length)
  return answer
}
