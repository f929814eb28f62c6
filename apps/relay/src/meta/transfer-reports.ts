import {
  boundedSample,
  downloadTicketTypedData,
  NO_PAYER,
  type SignedTransferReport,
  SignatureInvalidError,
  TicketExpiredError,
  TicketForgedError,
  TransferReportReplayedError,
  TransferReportScopeError,
  type TransferReportResponse,
  transferReportTypedData,
  canonicalDigest,
} from '@konbini/protocol'
import { recoverTypedDataSigner } from '../pot/recover-typed-data.ts'
import type { MetaContext } from './context.ts'
import { acceptReceipts } from './receipts.ts'

/** How long after its ticket expired a report is still taken (a long download reports at its end). */
export const REPORT_GRACE_SECONDS = 3600

/**
 * A consumer's measurements of its ticket's providers, folded into their scores — believed only
 * as far as they are proven: the ticket carries this meta node's (or a co-signing meta's)
 * signature, the report its consumer's; only the ticket's providers are named; a ticket is
 * reported on once; bytes are bounded by the consumer's receipts (paid tickets) or the ticket's
 * budget, and each sample by `boundedSample`. Receipts riding the report are counted first.
 */
export async function acceptTransferReport(ctx: MetaContext, signed: SignedTransferReport): Promise<TransferReportResponse> {
  const { ticket, report } = signed
  const t = ticket.ticket
  const scope = (reason: string) => new TransferReportScopeError({ ticketId: t.id, reason })
  const issuer = recoverTypedDataSigner(downloadTicketTypedData(t, ctx.config.chainId), ticket.signature)
  if (issuer === undefined || issuer !== t.meta.toLowerCase() || !(await ticketIssuers(ctx)).has(issuer)) throw new TicketForgedError({ ticketId: t.id })
  if (report.ticketId.toLowerCase() !== t.id.toLowerCase()) throw scope('the report names another ticket')
  const now = ctx.now()
  if (t.expiresAt + REPORT_GRACE_SECONDS < now) throw new TicketExpiredError({ ticketId: t.id })
  const digest = canonicalDigest(report)
  const consumer = recoverTypedDataSigner(transferReportTypedData({ ticket: t.id, consumer: t.consumer, digest }, ctx.config.chainId), signed.signature)
  if (consumer !== t.consumer.toLowerCase()) throw new SignatureInvalidError()
  const providers = new Set(t.providers)
  const named = new Set<string>()
  for (const p of report.providers) {
    if (!providers.has(p.peerId)) throw scope(`${p.peerId} is not one of its providers`)
    if (named.has(p.peerId)) throw scope(`${p.peerId} is named twice`)
    named.add(p.peerId)
  }
  const paid = t.payer.toLowerCase() !== NO_PAYER
  // receipts are self-authenticating: counted whatever becomes of the report
  const receipts = paid && signed.receipts?.length ? await acceptReceipts(ctx, { receipts: signed.receipts }) : undefined
  if (!(await ctx.store.useNonce(`transfer-report:${t.consumer.toLowerCase()}`, t.id.toLowerCase(), t.expiresAt + REPORT_GRACE_SECONDS, now)))
    throw new TransferReportReplayedError({ ticketId: t.id })
  const receipted = paid ? await ctx.pot.receiptedBytes(t.id) : undefined
  let budget = t.maxBytes
  let counted = 0
  for (const p of report.providers) {
    // a paid ticket's bytes are what its receipts prove; an unpaid one's, what is left of its budget
    const proven = Math.min(budget, receipted?.get(p.peerId) ?? (paid ? 0 : budget))
    const sample = boundedSample(p, proven)
    budget -= sample.bytes
    if (sample.weight === 0) continue
    if ((await ctx.store.recordTransfer(p.peerId, sample)) !== undefined) counted++
  }
  ctx.metrics.inc('konbini_transfer_reports_total')
  return { ok: true, counted, ...(receipts !== undefined && { receipts }) }
}

/** Meta nodes whose tickets this one takes reports about: itself and the co-signers sharing its index. */
async function ticketIssuers(ctx: MetaContext): Promise<Set<string>> {
  const peers = await ctx.pot.metaPeers()
  return new Set([ctx.issuer.address.toLowerCase(), ...peers.map((p) => p.address.toLowerCase())])
}
