import { ChainUnavailableError, type CosignRequest, type CosignResponse, epochReportTypedData } from '@konbini/protocol'
import type { Hex } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { fetchArchive } from '../pot/fetch-archive.ts'
import { recomputeReport } from '../pot/recompute-report.ts'
import type { MetaContext } from './context.ts'
import { toChainReport } from './epochs.ts'

/** One co-signing at a time: each reads an archive and recomputes it. */
let busy: Promise<unknown> = Promise.resolve()

/**
 * `POST /v1/epochs/cosign`: reads the report's archive from the network (every block checked
 * against its CID), checks its claims against the chain and recomputes the roots and totals; signs
 * only an exact match (`ReportMismatchError` otherwise). Anyone may ask: a correct report is
 * harmless to sign, and only the next epoch is considered.
 */
export async function cosignReport(ctx: MetaContext, account: PrivateKeyAccount, { report, holders }: CosignRequest): Promise<CosignResponse> {
  const clock = ctx.epochs
  if (clock === undefined) throw new ChainUnavailableError({ reason: 'it co-signs no reports' })
  const work = busy.then(async () => {
    const known = await Promise.all((await ctx.store.holdersOf(report.archiveCid)).map(async (peerId) => (await ctx.store.getNode(peerId))?.httpUrl))
    const urls = [...new Set([...known.filter((u): u is string => typeof u === 'string' && u !== ''), ...holders])]
    const archive = await fetchArchive(report.archiveCid, urls)
    await recomputeReport(archive, report, clock.chain)
    const signature = await account.signTypedData(
      epochReportTypedData(
        toChainReport({
          report: { ...report, rewardRoot: report.rewardRoot as Hex, spendRoot: report.spendRoot as Hex },
          rewards: [],
          spends: [],
          earned: [],
          spent: [],
        }),
        clock.chainId,
        clock.chain.settlement as Hex,
      ),
    )
    ctx.metrics.inc('konbini_reports_cosigned_total')
    return { signer: account.address, signature }
  })
  busy = work.catch(() => {})
  return work
}
