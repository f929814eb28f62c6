import { NO_PAYER, type NodeInfo } from '@konbini/protocol'
import type { Logger } from 'pino'
import type { MetaContext } from './context.ts'
import type { RootState } from './db/meta-store.ts'
import { type Periodic, startPeriodic } from './periodic.ts'
import { rankLive } from './ranking.ts'
import { byteBudget } from './tickets.ts'

export interface RepairInit {
  ctx: MetaContext
  /** A replica holder unseen this long is replaced. */
  repairAfterSeconds: number
  intervalMs: number
  /** How long one meta process owns a root's repair. */
  leaseSeconds?: number
  log: Logger
}

/** A light peer unseen this long is forgotten (node row and cache holdings). */
const LIGHT_PEER_FORGET_SECONDS = 3600

/**
 * The repair loop: files whose replica holders have been gone longer than `repairAfterSeconds`
 * are copied node to node from surviving holders to spare nodes until each has R replicas again.
 * One meta process repairs a root at a time (a lease in the database). Copies beyond R — a holder
 * that came back — are kept as known cache, not counted as replicas.
 */
export function startRepair(init: RepairInit): Periodic {
  return startPeriodic(
    () => repairAll(init),
    init.intervalMs,
    (err) => init.log.warn({ err }, 'repair pass failed'),
  )
}

/** One pass over every pinned root; returns how many copies it started. */
async function repairAll(init: RepairInit): Promise<number> {
  const { ctx } = init
  const now = ctx.now()
  await ctx.store.forgetLightPeers(now - LIGHT_PEER_FORGET_SECONDS)
  // light peers are never repair targets or sources, and never count toward R
  const live = rankLive(await ctx.store.listNodes(), now, ctx.config.liveSeconds).filter((n) => n.kind === 'full' && n.httpUrl !== undefined)
  let started = 0
  for (const root of await ctx.store.rootStates()) started += await repairRoot(init, root, live, now)
  return started
}

async function repairRoot(init: RepairInit, root: RootState, live: NodeInfo[], now: number): Promise<number> {
  const { ctx } = init
  const isLive = (peerId: string) => live.some((n) => n.peerId === peerId)
  const replicas = root.holders.filter((h) => h.role === 'replica')
  const liveReplicas = replicas.filter((h) => isLive(h.peerId))
  const gone = replicas.filter((h) => now - h.lastSeen > init.repairAfterSeconds)

  // R live replicas again: copies beyond R (gone ones first, then the lowest ranked) become cache
  if (liveReplicas.length >= root.replicas) {
    const rank = (peerId: string) => live.findIndex((n) => n.peerId === peerId)
    const extra = [...gone, ...liveReplicas.sort((a, b) => rank(a.peerId) - rank(b.peerId)).slice(root.replicas)]
    for (const h of extra) await ctx.store.setHolderRole(root.root, h.peerId, 'cache')
    return 0
  }
  const need = root.replicas - (replicas.length - gone.length)
  const sources = live.filter((n) => root.holders.some((h) => h.peerId === n.peerId))
  // a copy goes only to a node with a clean audit record (and counts only once it proves the copy)
  const spares = live.filter((n) => n.auditFailures === 0 && !root.holders.some((h) => h.peerId === n.peerId)).slice(0, need)
  if (need <= 0 || sources.length === 0 || spares.length === 0) return 0
  const holder = ctx.issuer.address
  if (!(await ctx.store.tryLease(root.root, holder, now, now + (init.leaseSeconds ?? 120)))) return 0
  let started = 0
  for (const spare of spares) {
    try {
      await replicateTo(ctx, root, spare, sources, now)
      started++
    } catch (err) {
      init.log.warn({ err, root: root.root, spare: spare.peerId }, 'could not start a repair copy')
    }
  }
  init.log.info({ root: root.root, started, need }, 'repair started')
  return started
}

async function replicateTo(ctx: MetaContext, root: RootState, spare: NodeInfo, sources: NodeInfo[], now: number): Promise<void> {
  const maxBytes = byteBudget(root.size)
  if (spare.httpUrl === undefined) throw new Error(`spare ${spare.peerId} has no HTTP URL`)
  const upload = await ctx.issuer.upload({ owner: root.owner, payer: NO_PAYER, epoch: 0, nodes: [spare.peerId], urls: [spare.httpUrl], maxBytes }, now)
  await ctx.store.createUpload({
    ticketId: upload.ticket.id,
    owner: root.owner,
    name: root.name,
    size: root.size,
    replicas: 1,
    nodes: [spare.peerId],
    createdAt: now,
    expiresAt: upload.ticket.expiresAt,
    purpose: 'repair',
  })
  // repair is the network's own traffic: unpaid
  const download = await ctx.issuer.download(
    { consumer: ctx.issuer.address, payer: NO_PAYER, epoch: 0, root: root.root, providers: sources.map((s) => s.peerId), maxBytes },
    now,
  )
  const sourceEndpoints = sources.map(({ peerId, multiaddrs, httpUrl }) => ({ peerId, multiaddrs, ...(httpUrl !== undefined && { httpUrl }) }))
  const order = await ctx.issuer.replicateOrder(spare.peerId, { upload, download, sources: sourceEndpoints })
  const res = await fetch(new URL('/v1/replicate', spare.httpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(order),
    signal: AbortSignal.timeout(10_000),
  })
  if (!res.ok) throw new Error(`spare answered ${res.status}: ${await res.text()}`)
  ctx.metrics.inc('konbini_repairs_started_total')
}
