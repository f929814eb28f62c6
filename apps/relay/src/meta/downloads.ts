import { ContentDeniedError, FileNotFoundError, NO_PAYER, NoProvidersError, type ProvidersRequest, type ProvidersResponse } from '@konbini/protocol'
import type { Caller, MetaContext } from './context.ts'
import type { NodeRow } from './db/meta-store.ts'
import { donorServing } from './nodes.ts'
import { choosePayment } from './payer.ts'
import { rankLive } from './ranking.ts'
import { assertMayRead } from './read-access.ts'
import { byteBudget } from './tickets.ts'

/** Most providers one answer (and its download ticket) names. */
const MAX_PROVIDERS = 32

/**
 * Live holders of a root, ranked together by score in a signed download ticket: full nodes
 * holding it, and — for a public root — light peers caching it that serve now. A denylisted root
 * gets no ticket; a root that is not public only for its owner or an access grant's holder.
 * Each request counts toward the root's popularity (what light peers are asked to cache),
 * except a light peer operator's own cache fills.
 */
export async function findProviders(ctx: MetaContext, request: ProvidersRequest, caller: Caller): Promise<ProvidersResponse> {
  ctx.ticketLimit.take(`ip:${caller.ip}`)
  const file = await ctx.store.getAnyFile(request.root)
  if (file === undefined) throw new FileNotFoundError({ cid: request.root })
  if (await ctx.store.isDenied(request.root)) throw new ContentDeniedError({ cid: request.root })
  const publicRoot = await ctx.store.isPublicRoot(request.root)
  if (!publicRoot) await assertMayRead(ctx, request)
  const now = ctx.now()
  const consumer = request.consumer.toLowerCase()
  if (!(await ctx.store.isLightOperator(consumer))) await ctx.store.bumpPopularity(request.root, now, ctx.config.popularityHalfLifeSeconds)
  const holders = new Set(await ctx.store.holdersOf(request.root))
  const rows = (await ctx.store.listNodes()).filter((n) => holders.has(n.peerId))
  const lightAllowed = publicRoot
  const only = request.providers === undefined ? undefined : new Set(request.providers)
  const eligible = rows.filter(
    (n: NodeRow) => (only === undefined || only.has(n.peerId)) && (n.kind === 'full' ? n.httpUrl !== undefined : lightAllowed && donorServing(n)),
  )
  const ranked = rankLive(eligible, now, ctx.config.liveSeconds, request.region).slice(0, MAX_PROVIDERS)
  if (ranked.length === 0) throw new NoProvidersError({ cid: request.root })
  const payment = await choosePayment(ctx, { consumer, owner: file.owner })
  const download = await ctx.issuer.download(
    { consumer, ...payment, root: request.root, providers: ranked.map((n) => n.peerId), maxBytes: byteBudget(file.size) },
    now,
  )
  if (payment.payer !== NO_PAYER) await ctx.pot.addTicket(download)
  ctx.metrics.inc('konbini_tickets_issued_total', 1, { kind: 'download' })
  return {
    download,
    providers: ranked.map(({ peerId, multiaddrs, httpUrl, kind, score, throughputBps, egressCapBps }) => ({
      peerId,
      multiaddrs,
      ...(httpUrl !== undefined && { httpUrl }),
      kind,
      score,
      throughputBps,
      egressCapBps,
    })),
  }
}
