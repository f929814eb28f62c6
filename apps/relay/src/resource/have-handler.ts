import { InvalidRequestError, parseCid, TICKET_HEADER } from '@konbini/protocol'
import { z } from 'zod'
import { readJson, sendJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'
import type { DurableBlockstore } from './durable-blockstore.ts'
import { type TicketPolicy, verifyUploadTicket } from '@konbini/browser-node'
import { decodeTicketHeader } from './json-headers.ts'
import type { RootAccess } from './root-access.ts'
import type { SentBlocks } from './sent-blocks.ts'

/** Most CIDs one `have` request may ask about. */
export const MAX_HAVE_CIDS = 1024

const haveRequest = z.object({ cids: z.array(z.string().max(200)).max(MAX_HAVE_CIDS) })

export interface HaveHandlerInit {
  blockstore: DurableBlockstore
  policy: TicketPolicy
  sent: SentBlocks
  access: RootAccess
}

/**
 * `POST /v1/blocks/have` under an upload ticket naming this node: which of these blocks are
 * already durable here *for this ticket's owner* — sent by the owner's tickets, or public. A
 * resumed upload sends only what some node of its pipeline lacks; nobody learns whether another
 * owner's private blocks are here, and nobody skips sending them.
 */
export function haveHandler(init: HaveHandlerInit): Handler {
  return async (req, res, url) => {
    if (url.pathname !== '/v1/blocks/have') return false
    if (req.method !== 'POST') throw new InvalidRequestError({ reason: 'have-lists are POSTed' })
    const ticket = await verifyUploadTicket(decodeTicketHeader(req.headers[TICKET_HEADER]), init.policy)
    const { cids } = await readJson(req, haveRequest)
    const have = await Promise.all(
      cids.map(async (c) => {
        const cid = parseCid(c)
        const key = cid.toString()
        const theirs = init.sent.sentBy(ticket.owner, key) || init.access.isPublic(key)
        return theirs && (await init.blockstore.has(cid))
      }),
    )
    sendJson(res, 200, { have })
    return true
  }
}
