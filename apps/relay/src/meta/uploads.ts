import {
  AUDIT_FAILURE_LIMIT,
  StorageProofFailedError,
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
  canonicalDigest,
} from '@konbini/protocol'
import { type AuditOutcome, auditHolder } from './audit.ts'
import { ownerOf, spendNonce } from './authorize-owner.ts'
import type { Caller, MetaContext } from './context.ts'
import type { NodeRow } from './db/meta-store.ts'
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
 * back to the same nodes, flagged `resumed` — unless the client asks to avoid some of them (they
 * failed its last attempt).
 */
export async function placeUpload(ctx: MetaContext, { placement: request, auth }: SignedPlacement, caller: Caller): Promise<PlacementResponse> {
  ctx.ticketLimit.take(`ip:${caller.ip}`)
  assertSafeName(request.name)
  const owner = await ownerOf(ctx, auth, 'place')
  if (owner !== request.owner.toLowerCase()) throw new SignatureInvalidError()
  if (auth.request.target !== canonicalDigest(request)) throw new SignatureInvalidError()
  if (request.requestId) {
    // a retry, or a replay: the ticket first issued, nothing new (the request id is the replay guard)
    const placed = await ctx.store.getUploadByRequest(owner, request.requestId)
    if (placed?.ticketJson) return JSON.parse(placed.ticketJson) as PlacementResponse
  } else await spendNonce(ctx, owner, auth)
  ctx.ticketLimit.take(`owner:${owner}`)
  const replicas = request.replicas ?? DEFAULT_REPLICAS
  const now = ctx.now()
  // light peers (browser tabs) only cache: never placed on, never counted toward R
  const avoid = new Set(request.avoid ?? [])
  const live = rankLive(await ctx.store.listNodes(), now, ctx.config.liveSeconds, request.region, request.size).filter(
    (n) => n.kind === 'full' && n.httpUrl !== undefined && !avoid.has(n.peerId),
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

/**
 * Records a node's signed storage report once the node passed a storage challenge for the root
 * (StorageProofFailedError otherwise: nothing is counted); the upload completes (file → holders)
 * once R nodes proved the root, or every node of its ticket proved it or failed.
 */
export async function acceptStorageReport(ctx: MetaContext, { body, signature }: SignedStorageReport): Promise<{ ok: true }> {
  const node = await ctx.store.getNode(body.peerId)
  const signer = await recoverStatementSigner('storage', body.peerId, body, signature, ctx.config.chainId)
  if (node === undefined || signer.toLowerCase() !== node.operator.toLowerCase() || signer.toLowerCase() !== body.operator.toLowerCase())
    throw new SignatureInvalidError()
  const upload = await ctx.store.getUpload(body.ticketId)
  if (upload === undefined) throw new InvalidRequestError({ reason: `unknown ticket ${body.ticketId}` })
  if (!upload.nodes.includes(body.peerId)) throw new TicketScopeError({ ticketId: body.ticketId, reason: 'it did not place data on this node' })
  const now = ctx.now()
  // a report counts only once the node proved, on the spot, that it keeps the blocks it reports
  const proof = await proveStorage(ctx, node, body.root)
  if (!proof.passed) {
    await ctx.store.addFailedReport({ ticketId: body.ticketId, peerId: body.peerId, root: body.root, reportedAt: now })
    // the upload need not wait for a liar: it completes with the nodes that proved it, and repair adds the rest
    await completeIfSettled(ctx, body.ticketId, body.root, now)
    throw new StorageProofFailedError({ peerId: body.peerId, root: body.root, reason: proof.reason })
  }
  await ctx.store.addUploadReport({ ...body, reportedAt: now })
  await completeIfSettled(ctx, body.ticketId, body.root, now)
  if (upload.completedAt != null && upload.root === body.root) await ctx.store.addHolders(body.root, [body.peerId], now)
  ctx.metrics.inc('konbini_storage_reports_total')
  return { ok: true }
}

/** Longest wait an upload-status request may ask for. */
const MAX_WAIT_SECONDS = 30

/**
 * Where an upload stands; waits up to `waitSeconds` for it to complete. A waiting request costs a
 * timer, not a loop: the storage report that completes the upload wakes it (`ctx.uploadWaiters`),
 * and waiters are capped per address (RateLimitedError).
 */
export async function uploadStatus(ctx: MetaContext, ticketId: string, waitSeconds: number, caller: Caller, signal?: AbortSignal): Promise<UploadStatus> {
  if (!/^0x[0-9a-fA-F]{64}$/.test(ticketId)) throw new InvalidRequestError({ reason: 'a ticket id is 32 bytes of hex' })
  const read = async () => {
    const upload = await ctx.store.getUpload(ticketId)
    if (upload === undefined) throw new InvalidRequestError({ reason: `unknown ticket ${ticketId}` })
    return upload
  }
  let upload = await read()
  const ms = Math.min(Math.max(waitSeconds, 0), MAX_WAIT_SECONDS) * 1000
  if (upload.completedAt == null && ms > 0) {
    const isDone = async () => (await ctx.store.getUpload(ticketId))?.completedAt != null
    await ctx.uploadWaiters.wait({ ticketId, address: caller.ip, ms, isDone, ...(signal && { signal }) })
    upload = await read()
  }
  const complete = upload.completedAt != null
  const root = upload.root ?? upload.reports[0]?.root ?? null
  const holders = complete && root ? await ctx.store.holdersOf(root) : upload.reports.map((r) => r.peerId)
  return { ticketId, replicas: upload.replicas, root, holders, complete }
}

/** Random root-to-leaf paths a node must prove before its storage report counts. */
const PATHS_AT_REPORT = 2

/**
 * Audits a reporting node for `root`. A node that reports blocks it cannot produce lied: it is
 * banned at once (its failures raised to AUDIT_FAILURE_LIMIT). Silence counts as one failure.
 */
async function proveStorage(ctx: MetaContext, node: NodeRow, root: string): Promise<AuditOutcome> {
  if (node.httpUrl === undefined) return { passed: false, lost: false, reason: 'it has no URL to challenge' }
  const outcome = await auditHolder(ctx.issuer, { peerId: node.peerId, httpUrl: node.httpUrl }, root, PATHS_AT_REPORT)
  ctx.metrics.inc('konbini_audits_total', 1, { outcome: outcome.passed ? 'passed' : 'failed' })
  if (!outcome.passed) {
    const banAt = outcome.lost ? AUDIT_FAILURE_LIMIT : 0
    await ctx.store.recordAudit({ root, peerId: node.peerId, passed: false, dropReplica: true, now: ctx.now(), banAt })
    if (outcome.lost) ctx.slasher?.propose(node.peerId, root)
  }
  return outcome
}

/**
 * Completes an upload once R nodes proved the same root — or once every node of its ticket has
 * either proved it or failed its proof (at least one proved): the file is pinned with the nodes
 * that proved it and the repair loop copies it until it has R replicas.
 */
async function completeIfSettled(ctx: MetaContext, ticketId: string, root: string, now: number): Promise<void> {
  const upload = await ctx.store.getUpload(ticketId)
  if (upload === undefined || upload.completedAt != null) return
  const agreeing = upload.reports.filter((r) => r.root === root).map((r) => r.peerId)
  const settled = agreeing.length + upload.failedNodes.length >= upload.nodes.length
  if (agreeing.length >= upload.replicas || (settled && agreeing.length > 0)) {
    await ctx.store.completeUpload({ ticketId, root, holders: agreeing, now })
    ctx.uploadWaiters.notify(ticketId)
  }
}
