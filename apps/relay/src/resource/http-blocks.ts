import {
  blockFrameParts,
  encodeLengthPrefixed,
  FrameKind,
  InvalidRequestError,
  MAX_WANTLIST_SIZE,
  parseCid,
  RECEIPT_HEADER,
  TICKET_HEADER,
  toWireError,
} from '@konbini/protocol'
import { z } from 'zod'
import type { Metrics } from '../http/metrics.ts'
import { readJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'
import type { DownloadTickets } from '@konbini/browser-node'
import type { DurableBlockstore } from './durable-blockstore.ts'
import type { ByteRateLimiter } from '@konbini/browser-node'
import { AbandonedAnswers } from './abandoned-answers.ts'
import { decodeReceiptHeader, decodeTicketHeader } from './json-headers.ts'

const wantList = z.object({ cids: z.array(z.string().max(200)).min(1).max(MAX_WANTLIST_SIZE) })

export interface HttpBlocksInit {
  blockstore: DurableBlockstore
  tickets: DownloadTickets
  egress: ByteRateLimiter
  metrics: Metrics
  onTransfer?: (delta: 1 | -1) => void
}

/**
 * `POST /v1/blocks`: the block exchange over HTTP for clients of full nodes (the paid path).
 * Headers: the download ticket and, for a paid one, the consumer's latest receipt for this node
 * (when one is due); body: a want-list; answer: a stream of Block/DontHave frames in order, with
 * backpressure, charged to the ticket and the operator's egress cap.
 */
export function httpBlocksHandler(init: HttpBlocksInit): Handler {
  const abandoned = new AbandonedAnswers(init.tickets)
  return async (req, res, url) => {
    if (url.pathname !== '/v1/blocks') return false
    if (req.method !== 'POST') throw new InvalidRequestError({ reason: 'want-lists are POSTed' })
    abandoned.request(req.socket)
    const signed = decodeTicketHeader(req.headers[TICKET_HEADER])
    const ticket = await init.tickets.verify(signed)
    // the consumer's latest receipt for this node rides its next want (a bad one fails the request)
    const receipt = decodeReceiptHeader(req.headers[RECEIPT_HEADER])
    if (receipt !== undefined) await init.tickets.acceptReceipt(receipt)
    const cids = (await readJson(req, wantList)).cids.map((c) => parseCid(c))
    const signature = (signed as { signature: string }).signature
    res.writeHead(200, { 'content-type': 'application/vnd.konbini.frames', 'cache-control': 'no-store' })
    init.onTransfer?.(1)
    // the client cancels by aborting the request (another provider sent the blocks first):
    // stop at once, also while a block waits for the egress cap, so it is never sent
    const gone = new AbortController()
    res.once('close', () => gone.abort())
    try {
      for (const cid of cids) {
        if (res.destroyed) return true
        // a ticket serves its root's DAG and nothing else
        await init.tickets.assertInRoot(ticket, cid)
        const bytes = await init.blockstore.getBytes(cid).catch(() => undefined)
        if (bytes === undefined) {
          res.write(encodeLengthPrefixed({ kind: FrameKind.DontHave, cid }))
          continue
        }
        try {
          // a paid ticket's consumer must keep up with its receipts (x-konbini-receipt, POST /v1/blocks/receipts)
          await init.tickets.awaitReceiptRoom(ticket, bytes.byteLength, gone.signal)
          await init.egress.take(bytes.byteLength, gone.signal)
        } catch (err) {
          if (gone.signal.aborted) return true
          throw err
        }
        if (res.destroyed) return true
        init.tickets.charge(ticket, signature, bytes.byteLength)
        abandoned.charged(res, ticket, bytes.byteLength)
        const [head, body] = blockFrameParts(cid, bytes)
        res.write(head)
        if (!res.write(body)) await drained(res)
        init.metrics.inc('konbini_blocks_served_total', 1, { path: 'http' })
        init.metrics.inc('konbini_bytes_served_total', bytes.byteLength, { path: 'http' })
      }
    } catch (err) {
      const { error } = toWireError(err).body
      init.metrics.inc('konbini_block_sessions_refused_total', 1, { error: error.name })
      res.write(encodeLengthPrefixed({ kind: FrameKind.Error, error }))
    } finally {
      init.onTransfer?.(-1)
      res.end()
    }
    return true
  }
}

/** Resolves when the response can take more, or is gone (a client that left never drains). */
function drained(res: NodeJS.WritableStream & { once(event: string, fn: () => void): unknown; off(event: string, fn: () => void): unknown }): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      for (const event of ['drain', 'close', 'error']) res.off(event, done)
      resolve()
    }
    for (const event of ['drain', 'close', 'error']) res.once(event, done)
  })
}
