import {
  BaseError,
  decodeFrame,
  FrameKind,
  FrameReader,
  InvalidMessageError,
  InvalidRequestError,
  nodeEndpoint,
  PART_HEADER,
  TICKET_HEADER,
  type UploadTicket,
  verifyBlock,
} from '@konbini/protocol'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import { z } from 'zod'
import type { Metrics } from '../http/metrics.ts'
import { parseWith, sendJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'
import { dagCids, summarizeDag } from './dag-walk.ts'
import type { DurableBlockstore } from './durable-blockstore.ts'
import { type Forward, forwardUpload } from './forward.ts'
import type { MetaReporter } from './reporter.ts'
import type { RootAccess } from './root-access.ts'
import type { SentBlocks } from './sent-blocks.ts'
import type { UploadTicketUse } from './upload-ticket-use.ts'
import { type TicketPolicy, verifyUploadTicket } from '@konbini/browser-node'
import { decodeTicketHeader } from './json-headers.ts'

export class IncompleteDagError extends BaseError {
  override name = 'IncompleteDagError'
  constructor({ root, missing }: { root: string; missing: number }) {
    super(`The upload of ${root} ended with ${missing}+ of its blocks missing.`)
  }
}

/** An upload named a root whose blocks it did not send (and that is not public here). */
export class RootNotSentError extends BaseError {
  override name = 'RootNotSentError'
  override readonly status = 403
  constructor({ root }: { root: string }) {
    super(`The upload named ${root} as its root without sending its blocks: send the file's bytes (only a public root is shared without them).`)
  }
}

export interface UploadHandlerInit {
  blockstore: DurableBlockstore
  /** Public and denied roots: a denied root is refused, a public one may be claimed without its bytes. */
  access: RootAccess
  policy: TicketPolicy
  /** What each upload ticket stored here so far (its budget counts across requests). */
  uses: UploadTicketUse
  /** Which blocks each owner's tickets sent here. */
  sent: SentBlocks
  reporter: MetaReporter
  metrics: Metrics
  log: Logger
  /** Blocks written and synced together (group commit); one batch commits while the next fills. */
  commitBatch?: number
  onTransfer?: (delta: 1 | -1) => void
}

const route = z.array(nodeEndpoint).min(1).max(16)

/**
 * `POST /v1/upload`: a stream of block frames under an upload ticket. Each block is checked
 * against its CID and written durably; the body is forwarded unchanged to the next node of the
 * ticket's pipeline, so the client sends every byte once. After the End frame the node checks
 * the DAG is whole, signs a storage report to the meta node, and answers with who stored it.
 */
export function uploadHandler(init: UploadHandlerInit): Handler {
  return async (req, res, url) => {
    if (url.pathname !== '/v1/upload') return false
    if (req.method !== 'POST') throw new InvalidRequestError({ reason: 'uploads are POSTed' })
    init.onTransfer?.(1)
    try {
      await receive(req, res, init)
    } finally {
      init.onTransfer?.(-1)
    }
    return true
  }
}

async function receive(req: IncomingMessage, res: ServerResponse, init: UploadHandlerInit): Promise<void> {
  const ticketHeader = req.headers[TICKET_HEADER]
  const ticket = await verifyUploadTicket(decodeTicketHeader(ticketHeader), init.policy)
  const routeHeader = String(req.headers['x-konbini-route'] ?? '')
  const pipeline = parseWith(route, decodeRoute(routeHeader))
  if (pipeline.map((n) => n.peerId).join() !== ticket.nodes.join()) throw new InvalidRequestError({ reason: 'the route does not match the ticket' })
  const self = ticket.nodes.indexOf(init.policy.peerId)
  const next = pipeline[self + 1]
  // the body goes on only to the URL the meta node signed for the next node, never one the request names
  if (next !== undefined && next.httpUrl !== ticket.urls[self + 1]) throw new InvalidRequestError({ reason: "the route's next hop is not the ticket's" })
  init.uses.assertOpen(ticket)
  // a part carries blocks only: browsers cannot stream one request body over HTTP/1.1, so they send parts, then the End
  const part = req.headers[PART_HEADER] === '1'
  const forward: Forward | undefined = next ? forwardUpload(next, String(ticketHeader), routeHeader, part) : undefined

  const reader = new FrameReader()
  const limit = init.commitBatch ?? 16
  let batch: Array<{ cid: CID; bytes: Uint8Array }> = []
  let committing: Promise<void> = Promise.resolve()
  const commit = async () => {
    const blocks = batch
    batch = []
    await committing
    // durable first, then marked as this owner's (a resumed upload may skip them; its End may name them)
    committing = init.blockstore.putMany(blocks).then(() =>
      init.sent.record(
        ticket.owner,
        blocks.map((b) => b.cid.toString()),
        ticket.expiresAt,
      ),
    )
  }
  let received = 0
  let root: CID | undefined
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      const forwarding = forward?.write(bytes)
      for (const body of reader.push(bytes)) {
        const frame = decodeFrame(body)
        if (root !== undefined) throw new InvalidMessageError({ reason: 'blocks after the End frame' })
        if (frame.kind === FrameKind.End) {
          root = frame.root
          continue
        }
        if (frame.kind !== FrameKind.Block) throw new InvalidMessageError({ reason: 'an upload carries only blocks' })
        received += frame.bytes.byteLength
        init.uses.charge(ticket, frame.bytes.byteLength)
        await verifyBlock(frame.cid, frame.bytes)
        batch.push({ cid: frame.cid, bytes: frame.bytes })
        if (batch.length >= limit) await commit()
      }
      await forwarding
    }
    await commit()
    await committing
  } catch (err) {
    forward?.abort()
    await committing.catch(() => {})
    throw err
  }
  if (!reader.empty) throw new InvalidMessageError({ reason: 'the body ended inside a frame' })
  if (part) {
    if (root !== undefined) throw new InvalidMessageError({ reason: 'an upload part carries no End frame' })
    await answerPart(res, init.policy.peerId, forward)
    return
  }
  if (root === undefined) throw new InvalidMessageError({ reason: 'the upload ended without its root' })
  const summary = await summarizeDag(init.blockstore, root)
  if (summary.missing.length > 0) {
    forward?.abort()
    throw new IncompleteDagError({ root: root.toString(), missing: summary.missing.length })
  }
  try {
    await assertClaimable(root, ticket, init)
  } catch (err) {
    forward?.abort()
    throw err
  }
  init.uses.finish(ticket)
  init.metrics.inc('konbini_uploads_stored_total')
  init.metrics.inc('konbini_bytes_stored_total', received)

  const stored = [init.policy.peerId]
  if (forward) {
    try {
      stored.push(...(await forward.finish()).stored)
    } catch (err) {
      init.log.warn({ err, next: next?.peerId }, 'pipeline: the next node did not store the upload')
    }
  }
  let reported = true
  try {
    await init.reporter.storage({
      ticketId: ticket.id,
      root: root.toString(),
      blocks: summary.blocks,
      bytes: summary.bytes,
      issuedAt: Math.floor(Date.now() / 1000),
    })
  } catch (err) {
    reported = false
    init.log.warn({ err }, 'storage report was not accepted')
  }
  sendJson(res, 200, { root: root.toString(), stored, reported })
}

/**
 * An upload may end on a root only if it is not denylisted and its owner's tickets sent every
 * block of its DAG here — or the block belongs to a public root. Otherwise a stranger could name
 * someone's private root in an End frame and pin it as its own.
 */
async function assertClaimable(root: CID, ticket: UploadTicket, init: UploadHandlerInit): Promise<void> {
  init.access.assertNotDenied(root)
  const { cids } = await dagCids(init.blockstore, root)
  for (const cid of cids) {
    init.access.assertNotDenied(cid)
    if (!init.sent.sentBy(ticket.owner, cid) && !init.access.isPublic(cid)) throw new RootNotSentError({ root: root.toString() })
  }
}

/** A part is durable here: answer once the rest of the pipeline has it durable too. */
async function answerPart(res: ServerResponse, self: string, forward: Forward | undefined): Promise<void> {
  const stored = [self]
  if (forward) stored.push(...(await forward.finish().catch(() => ({ stored: [] }))).stored)
  sendJson(res, 200, { stored, part: true })
}

function decodeRoute(header: string): unknown {
  try {
    return JSON.parse(Buffer.from(header, 'base64url').toString('utf8'))
  } catch {
    throw new InvalidRequestError({ reason: 'the x-konbini-route header is not base64url JSON' })
  }
}
