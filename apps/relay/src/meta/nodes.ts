import {
  type CacheAssignment,
  HEARTBEAT_SKEW_SECONDS,
  HeartbeatReplayedError,
  type HeartbeatResponse,
  HeartbeatStaleError,
  InvalidRequestError,
  type NodeInfo,
  SignatureInvalidError,
  type SignedHeartbeat,
  type SignedNodeLeave,
  UntrustedMetaError,
} from '@konbini/protocol'
import type { Caller, MetaContext } from './context.ts'
import type { NodeRow } from './db/meta-store.ts'
import { issueSpotChecks, takeProofs } from './light-spot-checks.ts'
import { toNodeInfo } from './ranking.ts'
import { verifyNodeUrl } from './verify-node-url.ts'
import { recoverStatementSigner, verifyNodeBinding } from './verify-signatures.ts'

/** How far a leave's `issuedAt` may be from the meta node's clock (replayed old leaves are refused). */
const LEAVE_SKEW_SECONDS = 300
/** Most roots one heartbeat answer lists (denylist, a full node's public roots). */
const MAX_LISTED_ROOTS = 10_000

/**
 * Registers or refreshes a node: its operator signed the heartbeat and its peer key signed the
 * binding; it is fresh (issued within HEARTBEAT_SKEW_SECONDS) and numbered above the last one
 * taken from its peer id, so a replay is refused; a full node's URL has answered the identity
 * challenge with the node's own peer key (checked when the URL is new). Rate-limited per source
 * address and per operator. The answer carries the denylist; a full node's also the public roots
 * it holds (its gateway and Bitswap serve only those); a light peer's `holds` replace its cached
 * holdings — each ranked as a provider only once it passed a spot check (`proofs`) — and its
 * answer carries what to cache next and new spot checks.
 */
export async function acceptHeartbeat(ctx: MetaContext, { body, signature }: SignedHeartbeat, caller: Caller): Promise<HeartbeatResponse> {
  const now = ctx.now()
  ctx.heartbeatLimit.take(`ip:${caller.ip}`)
  if (Math.abs(now - body.issuedAt) > HEARTBEAT_SKEW_SECONDS) throw new HeartbeatStaleError({ issuedAt: body.issuedAt, now })
  const signer = await recoverStatementSigner('heartbeat', body.peerId, body, signature, ctx.config.chainId)
  if (signer.toLowerCase() !== body.operator.toLowerCase()) throw new SignatureInvalidError()
  ctx.heartbeatLimit.take(`operator:${signer.toLowerCase()}`)
  if (!(await verifyNodeBinding(body.peerId, body.operator, body.binding))) throw new SignatureInvalidError()
  // a node that would refuse this meta's tickets must not be placed on by it
  if (!body.trustedMetas.some((a) => a.toLowerCase() === ctx.issuer.address.toLowerCase())) throw new UntrustedMetaError({ meta: ctx.issuer.address })
  if (body.kind === 'full' && body.httpUrl === undefined) throw new InvalidRequestError({ reason: 'a full node needs an httpUrl' })
  const known = await ctx.store.getNode(body.peerId)
  if (known?.seq !== undefined && known.seq >= body.seq) throw new HeartbeatReplayedError({ peerId: body.peerId, seq: body.seq })
  // a full node earns its place: staked on chain by the operator that signs for it
  if (body.kind === 'full') await ctx.stakes?.assertStaked(body.peerId, signer)
  const url = body.kind === 'full' ? body.httpUrl : undefined
  if (url !== undefined && known?.verifiedUrl !== url) await verifyNodeUrl(url, body.peerId)
  const { issuedAt: _issuedAt, binding: _binding, trustedMetas: _trusted, holds, donor, proofs, ...node } = body
  const light = body.kind === 'light'
  const taken = await ctx.store.upsertNode({ ...node, operator: body.operator.toLowerCase(), ...(light && donor && { donor }) }, now)
  if (!taken) throw new HeartbeatReplayedError({ peerId: body.peerId, seq: body.seq })
  if (url !== undefined && known?.verifiedUrl !== url) await ctx.store.setVerifiedUrl(body.peerId, url)
  await ctx.pot.setBinding(body.peerId, body.operator, body.binding)
  const denylist = (await ctx.store.denylist()).slice(-MAX_LISTED_ROOTS)
  if (!light) return { ok: true, denylist, publicRoots: await ctx.store.publicRootsHeldBy(body.peerId, MAX_LISTED_ROOTS) }
  await ctx.store.setLightHoldings(body.peerId, holds ?? [], now)
  // a claimed holding is ranked only once proven: answers to the last spot checks, then new ones
  if (proofs !== undefined) await takeProofs(ctx, body.peerId, proofs)
  const checks = await issueSpotChecks(ctx, body.peerId)
  const row = await ctx.store.getNode(body.peerId)
  return { ok: true, cache: row ? await cacheAssignments(ctx, row, now) : [], denylist, ...(checks.length > 0 && { proofs: checks }) }
}

/** Whether a light peer serves now: not paused and under its daily cap. */
export function donorServing(node: NodeRow): boolean {
  const d = node.donor
  if (d === undefined) return true
  return !d.paused && (d.dailyCapBytes === 0 || d.servedBytes24h < d.dailyCapBytes)
}

/**
 * The most requested public roots a light peer should fetch: not held by it, not denylisted,
 * held by a live full node, fitting its free storage, short of the light copies their demand
 * calls for (so donors spread over the popular roots instead of all caching the top one), at
 * most `cacheAssignments`.
 */
export async function cacheAssignments(ctx: MetaContext, node: NodeRow, now: number): Promise<CacheAssignment[]> {
  const limit = ctx.config.cacheAssignments
  if (limit === 0 || !donorServing(node)) return []
  let free = (node.donor?.storageCapBytes ?? node.capacityBytes) - node.usedBytes
  if (free <= 0) return []
  const candidates = await ctx.store.cacheCandidates({
    peerId: node.peerId,
    now,
    liveSince: now - ctx.config.liveSeconds,
    halfLifeSeconds: ctx.config.popularityHalfLifeSeconds,
    // a few more than asked for: some will not fit
    limit: limit * 4,
  })
  const assigned: CacheAssignment[] = []
  for (const c of candidates) {
    if (assigned.length >= limit) break
    if (c.size > free) continue
    // copies follow demand: one light copy per `requestsPerLightCopy` recent requests (at least one)
    if (c.lightCopies >= Math.max(1, Math.ceil(c.score / ctx.config.requestsPerLightCopy))) continue
    assigned.push({ root: c.root, size: c.size })
    free -= c.size
  }
  return assigned
}

/** A light peer stops donating: its cached holdings are forgotten and it is not live from now on. */
export async function acceptLeave(ctx: MetaContext, { body, signature }: SignedNodeLeave): Promise<{ ok: true }> {
  const signer = (await recoverStatementSigner('leave', body.peerId, body, signature, ctx.config.chainId)).toLowerCase()
  const node = await ctx.store.getNode(body.peerId)
  if (node === undefined || signer !== body.operator.toLowerCase() || signer !== node.operator.toLowerCase()) throw new SignatureInvalidError()
  if (Math.abs(ctx.now() - body.issuedAt) > LEAVE_SKEW_SECONDS) throw new SignatureInvalidError()
  if (node.kind !== 'light') throw new InvalidRequestError({ reason: 'only light peers leave; a full node just stops' })
  await ctx.store.leaveLightPeer(body.peerId)
  return { ok: true }
}

export async function listNodes(ctx: MetaContext): Promise<{ nodes: NodeInfo[] }> {
  const now = ctx.now()
  const nodes = (await ctx.store.listNodes()).map((r) => toNodeInfo(r, now, ctx.config.liveSeconds))
  return { nodes: nodes.sort((a, b) => Number(b.live) - Number(a.live) || b.score - a.score) }
}
