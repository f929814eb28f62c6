import { z } from 'zod'
import { address, byteCount, cidString, hex32, peerId, signature, unixSeconds } from './common.ts'

/** What a meta node signs to let a client push blocks to a pipeline of resource nodes. */
export const uploadTicket = z.object({
  id: hex32,
  meta: address,
  owner: address,
  /** Whose credit pays every replica's received bytes (NO_PAYER: unpaid). */
  payer: address,
  nodes: z.array(peerId).min(1).max(16),
  /** Each node's HTTP URL, in `nodes` order: a node forwards the upload only to the next one's. */
  urls: z
    .array(z.url({ protocol: /^https?$/ }).max(512))
    .min(1)
    .max(16),
  maxBytes: byteCount,
  /** The meta node's open epoch when it issued the ticket: the receipts' epoch. */
  epoch: z.number().int().nonnegative(),
  expiresAt: unixSeconds,
})
export type UploadTicket = z.infer<typeof uploadTicket>

/** What a meta node signs to let a consumer pull a DAG from ranked providers. */
export const downloadTicket = z.object({
  id: hex32,
  meta: address,
  consumer: address,
  /** Whose credit pays the traffic (NO_PAYER: unpaid, earns nothing). */
  payer: address,
  root: cidString,
  providers: z.array(peerId).max(64),
  maxBytes: byteCount,
  /** The meta node's open epoch when it issued the ticket: the receipts' epoch. */
  epoch: z.number().int().nonnegative(),
  expiresAt: unixSeconds,
})
export type DownloadTicket = z.infer<typeof downloadTicket>

export const signedUploadTicket = z.object({ ticket: uploadTicket, signature })
export type SignedUploadTicket = z.infer<typeof signedUploadTicket>
export const signedDownloadTicket = z.object({ ticket: downloadTicket, signature })
export type SignedDownloadTicket = z.infer<typeof signedDownloadTicket>
