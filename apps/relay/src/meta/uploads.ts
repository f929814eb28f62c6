import {
  DEFAULT_REPLICAS,
  NO_PAYER,
  InvalidRequestError,
  NotEnoughNodesError,
  type PlacementResponse,
  type SignedPlacement,
  type SignedStorageReport,
  SignatureInvalidError,
  TicketScopeError,
  type UploadStatus,
  assertSafeName,
  canonicalJson,
} from '@konbini/protocol'
import { keccak256, toHex } from 'viem'
import { ownerOf, spendNonce } from './authorize-owner.ts'
import type { Caller, MetaContext } from './context.ts'
import { chooseUploadPayment } from './payer.ts'
import { rankLive } from './ranking.ts'
import { byteBudget } from './tickets.ts'
import { recoverStatementSigner } from './verify-signatures.ts'

/** How long an unfinished upload stays a resume candidate. */
const RESUME_WINDOW_SECONDS = 24 * 3600

/**
 * Picks R live nodes by score and signs an upload ticket naming them, best first (the pipeline
 * order). The placement is the owner's (or its session key's) signed word: nobody else can add
 * a file to an owner's list or spend its rate limit. A retried request (same `requestId`, at any
 * meta node) gets the ticket first issued; an unfinished upload of the same name and size goes
 * back to the same nodes, flagged `resumed`.
 */
export async function placeUpload(ctx: MetaContext, { placement: request, auth }: SignedPlacement, caller: Caller): Promise<PlacementResponse> {
  ctx.ticketLimit.take(`ip:${caller.ip}`)
  assertSafeName(request.name)
  const owner = await ownerOf(ctx, auth, 'place')
  if (owner !== request.owner.toLowerCase()) throw new SignatureInvalidError()
  if (auth.request.target !== keccak256(toHex(canonicalJson(request)))) throw new SignatureInvalidError()
  if (request.requestId) {
    // a retry, or a replay: the ticket first issued, nothing new (the request id is the replay guard)
    const placed = await ctx.store.getUploadByRequest(owner, request.requestId)
    if (placed?.ticketJson) return JSON.parse(placed.ticketJson) as PlacementResponse
  } else await spendNonce(ctx, owner, auth)
  ctx.ticketLimit.take(`owner:${owner}`)
  const replicas = request.replicas ?? DEFAULT_REPLICAS
  const now = ctx.now()
  // light peers (browser tabs) only cache: never placed on, never counted toward R
  const live = rankLive(await ctx.store.listNodes(), now, ctx.config.liveSeconds, request.region, request.size).filter(
    (n) => n.kind === 'full' && n.httpUrl !== undefined,
  )
  if (live.length < replicas) throw new NotEnoughNodesError({ wanted: replicas, live: live.length })
  const previous = await ctx.store.findResumableUpload(owner, request.name, request.size, now - RESUME_WINDOW_SECONDS)
  const reusable = previous?.replicas === replicas && previous.nodes.every((id) => live.some((n) => n.peerId === id))
  const chosen = reusable ? previous.nodes.map((id) => live.find((n) => n.peerId === id) as (typeof live)[number]) : live.slice(0, replicas)
  const payment = await chooseUploadPayment(ctx, owner)
  const upload = await ctx.issuer.upload(
    { owner, ...payment, nodes: chosen.map((n) => n.peerId), urls: chosen.map((n) => n.httpUrl as string), maxBytes: byteBudget(request.size) },
    now,
  )
  if (payment.payer !== NO_PAYER) await ctx.pot.addTicket(upload)
  const answer: PlacementResponse = {
    upload,
    nodes: chosen.map(({ peerId, multiaddrs, httpUrl }) => ({ peerId, multiaddrs, httpUrl })),
    ...(reusable && { resumed: true }),
  }
  try {
    await ctx.store.createUpload({
      ticketId: upload.ticket.id,
      owner,
      name: request.name,
      size: request.size,
      replicas,
      nodes: upload.ticket.nodes,
      createdAt: now,
      expiresAt: upload.ticket.expiresAt,
      requestId: request.requestId,
      ticketJson: JSON.stringify(answer),
      public: request.public === true,
    })
  } catch (err) {
    // another meta process placed the same request a moment ago: answer with its ticket
    const placed = request.requestId ? await ctx.store.getUploadByRequest(owner, request.requestId) : undefined
    if (placed?.ticketJson) return JSON.parse(placed.ticketJson) as PlacementResponse
    throw err
  }
  ctx.metrics.inc('konbini_tickets_issued_total', 1, { kind: 'upload' })
  return answer
}

/** Records a node's signed storage report; the upload completes (file → holders) once R nodes agree on the root. */
export async function acceptStorageReport(ctx: MetaContext, { body, signature }: SignedStorageReport): Promise<{ ok: true }> {
  const node = await ctx.store.getNode(body.peerId)
  const signer = await recoverStatementSigner('storage', body.peerId, body, signature, ctx.config.chainId)
  if (node === undefined || signer.toLowerCase() !== node.operator.toLowerCase() || signer.toLowerCase() !== body.operator.toLowerCase())
    throw new SignatureInvalidError()
  const upload = await ctx.store.getUpload(body.ticketId)
  if (upload === undefined) throw new InvalidRequestError({ reason: `unknown ticket ${body.ticketId}` })
  if (!upload.nodes.includes(body.peerId)) throw new TicketScopeError({ ticketId: body.ticketId, reason: 'it did not place data on this node' })
  const now = ctx.now()
  const agreeing = await ctx.store.addUploadReport({ ...body, reportedAt: now })
  if (agreeing.length >= upload.replicas) {
    await ctx.store.completeUpload({ ticketId: body.ticketId, root: body.root, holders: agreeing, now })
  }
  if (upload.completedAt != null && upload.root === body.root) await ctx.store.addHolders(body.root, [body.peerId], now)
  ctx.metrics.inc('konbini_storage_reports_total')
  return { ok: true }
}

/** Where an upload stands; waits up to `waitSeconds` for it to complete. */
export async function uploadStatus(ctx: MetaContext, ticketId: string, waitSeconds: number): Promise<UploadStatus> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(ticketId)) throw new InvalidRequestError({ reason: 'a ticket id is 32 bytes of hex' })
  const deadline = performance.now() + Math.min(Math.max(waitSeconds, 0), 30) * 1000
  for (;;) {
    const upload = await ctx.store.getUpload(ticketId)
    if (upload === undefined) throw new InvalidRequestError({ reason: `unknown ticket ${ticketId}` })
    const complete = upload.completedAt != null
    if (complete || performance.now() >= deadline) {
      const root = upload.root ?? upload.reports[0]?.root ?? null
      const holders = complete && root ? await ctx.store.holdersOf(root) : upload.reports.map((r) => r.peerId)
      return { ticketId, replicas: upload.replicas, root, holders, complete }
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}
