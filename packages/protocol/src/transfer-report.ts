import { z } from 'zod'
import { konbiniDomain } from './eip712.ts'
import { receiptsResponse, signedReceipt } from './pot.ts'
import { hex32, peerId, signature } from './schemas/common.ts'
import { signedDownloadTicket } from './schemas/tickets.ts'

type Hex = `0x${string}`

/**
 * Per-provider numbers a consumer measured under one download ticket, cumulative over the whole
 * ticket: what the meta node ranks providers by. It counts once per ticket, signed by the
 * ticket's consumer (see `signedTransferReport`).
 */
export const transferReport = z.object({
  ticketId: hex32,
  providers: z
    .array(
      z.object({
        peerId,
        bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
        blocks: z.number().int().nonnegative(),
        millis: z.number().nonnegative(),
        failures: z.number().int().nonnegative(),
        firstByteMs: z.number().nonnegative().optional(),
      }),
    )
    .max(64),
})
export type TransferReport = z.infer<typeof transferReport>

/** What a consumer signs: the ticket and keccak256 of the report's canonical JSON. */
export const transferReportTypes = {
  TransferReport: [
    { name: 'ticket', type: 'bytes32' },
    { name: 'consumer', type: 'address' },
    { name: 'digest', type: 'bytes32' },
  ],
} as const

/** Typed-data arguments for signing or verifying a transfer report with viem (`digest`: keccak256 of `canonicalJson(report)`). */
export function transferReportTypedData(fields: { ticket: string; consumer: string; digest: string }, chainId?: number) {
  return {
    domain: konbiniDomain(chainId),
    types: transferReportTypes,
    primaryType: 'TransferReport',
    message: { ticket: fields.ticket as Hex, consumer: fields.consumer as Hex, digest: fields.digest as Hex },
  } as const
}

/**
 * `POST /v1/reports/transfer`: the ticket as a meta node signed it, the consumer's report about
 * its providers and the consumer's signature over both; with a paid ticket, the consumer's
 * latest receipts ride along (counted as `POST /v1/receipts` would, and they bound the bytes the
 * report may claim per provider).
 */
export const signedTransferReport = z.object({
  ticket: signedDownloadTicket,
  report: transferReport,
  /** The ticket's consumer's signature over `transferReportTypedData`. */
  signature,
  receipts: z.array(signedReceipt).max(64).optional(),
})
export type SignedTransferReport = z.infer<typeof signedTransferReport>

export const transferReportResponse = z.object({
  ok: z.literal(true),
  /** Providers whose numbers were folded into their scores. */
  counted: z.number().int().nonnegative(),
  /** The riding receipts' fate, when there were some. */
  receipts: receiptsResponse.optional(),
})
export type TransferReportResponse = z.infer<typeof transferReportResponse>
