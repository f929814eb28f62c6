import { FileNotFoundError, NoProvidersError, type ProvidersRequest, type ProvidersResponse, type TransferReport } from '@konbini/protocol'
import type { Caller, MetaContext } from './context.ts'
import { rankLive } from './ranking.ts'
import { byteBudget } from './tickets.ts'

/** Live holders of a root, ranked, in a signed download ticket. */
export async function findProviders(ctx: MetaContext, request: ProvidersRequest, caller: Caller): Promise<ProvidersResponse> {
  ctx.ticketLimit.take(`ip:${caller.ip}`)
  const file = await ctx.store.getAnyFile(request.root)
  if (file === undefined) throw new FileNotFoundError({ cid: request.root })
  const holders = new Set(await ctx.store.holdersOf(request.root))
  const now = ctx.now()
  const ranked = rankLive(await ctx.store.listNodes(), now, ctx.config.liveSeconds, request.region).filter((n) => holders.has(n.peerId))
  if (ranked.length === 0) throw new NoProvidersError({ cid: request.root })
  const download = await ctx.issuer.download(
    { consumer: request.consumer.toLowerCase(), root: request.root, providers: ranked.map((n) => n.peerId), maxBytes: byteBudget(file.size) },
    now,
  )
  ctx.metrics.inc('konbini_tickets_issued_total', 1, { kind: 'download' })
  return {
    download,
    providers: ranked.map(({ peerId, multiaddrs, httpUrl, score, throughputBps }) => ({ peerId, multiaddrs, httpUrl, score, throughputBps })),
  }
}

/** A client's measurements of each provider: folded into the node's throughput, latency and success rate. */
export async function acceptTransferReport(ctx: MetaContext, report: TransferReport): Promise<{ ok: true }> {
  for (const p of report.providers) {
    await ctx.store.recordTransfer(p.peerId, p)
  }
  ctx.metrics.inc('konbini_transfer_reports_total')
  return { ok: true }
}
