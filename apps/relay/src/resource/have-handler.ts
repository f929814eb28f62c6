import { InvalidRequestError, parseCid, TICKET_HEADER } from '@konbini/protocol'
import { z } from 'zod'
import { readJson, sendJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'
import type { DurableBlockstore } from './durable-blockstore.ts'
import { type TicketPolicy, verifyUploadTicket } from '@konbini/browser-node'
import { decodeTicketHeader } from './json-headers.ts'

/** Most CIDs one `have` request may ask about. */
export const MAX_HAVE_CIDS = 1024

const haveRequest = z.object({ cids: z.array(z.string().max(200)).max(MAX_HAVE_CIDS) })

/**
 * `POST /v1/blocks/have` under an upload ticket naming this node: which of these blocks are
 * already durable here. A resumed upload sends only what some node of its pipeline lacks.
 */
export function haveHandler(init: { blockstore: DurableBlockstore; policy: TicketPolicy }): Handler {
  return async (req, res, url) => {
    if (url.pathname !== '/v1/blocks/have') return false
    if (req.method !== 'POST') throw new InvalidRequestError({ reason: 'have-lists are POSTed' })
    await verifyUploadTicket(decodeTicketHeader(req.headers[TICKET_HEADER]), init.policy)
    const { cids } = await readJson(req, haveRequest)
    const have = await Promise.all(cids.map((c) => init.blockstore.has(parseCid(c))))
    sendJson(res, 200, { have })
    return true
  }
}
