import { InvalidRequestError, receiptsRequest, type ReceiptsResponse, toWireError } from '@konbini/protocol'
import type { DownloadTickets } from '@konbini/browser-node'
import { readJson, sendJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'

/** Where consumers of the HTTP block exchange send their receipts. */
export const HTTP_RECEIPTS_PATH = '/v1/blocks/receipts'

/**
 * `POST /v1/blocks/receipts`: the HTTP block exchange's receipts, beside `/v1/blocks` (the libp2p
 * path carries them in-band). Each is checked against the ticket this node serves; the answer
 * names the ones refused.
 */
export function httpReceiptsHandler({ tickets }: { tickets: DownloadTickets }): Handler {
  return async (req, res, url) => {
    if (url.pathname !== HTTP_RECEIPTS_PATH) return false
    if (req.method !== 'POST') throw new InvalidRequestError({ reason: 'receipts are POSTed' })
    const { receipts } = await readJson(req, receiptsRequest)
    const answer: ReceiptsResponse = { accepted: 0, rejected: [] }
    for (const [index, receipt] of receipts.entries()) {
      try {
        await tickets.acceptReceipt(receipt)
        answer.accepted++
      } catch (err) {
        answer.rejected.push({ index, error: toWireError(err).body.error })
      }
    }
    sendJson(res, 200, answer)
    return true
  }
}
