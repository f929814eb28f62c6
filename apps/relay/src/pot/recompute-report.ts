import { BaseError, type EpochArchive } from '@konbini/protocol'
import { type EpochAccounting, accountEpoch, rootOf } from './epoch-accounting.ts'
import type { SettlementChain } from './settlement-chain.ts'
import { checkArchive } from './verify-archive.ts'

export class ReportMismatchError extends BaseError {
  override name = 'ReportMismatchError' as const
  override readonly status = 409
  constructor({ epoch, reason }: { epoch: number; reason: string }) {
    super(`The report for epoch ${epoch} does not match its archive and the chain: ${reason}; it is not co-signed.`)
  }
}

/** Counts an archive's genuine receipts: tickets of meta nodes whitelisted at the archive's block only. */
export async function accountArchive(archive: EpochArchive, chain: SettlementChain): Promise<EpochAccounting & { rejected: number }> {
  const metas = new Set<string>()
  for (const meta of new Set([...archive.tickets, ...archive.uploads].map((t) => t.ticket.meta.toLowerCase())))
    if (await chain.isMeta(meta, BigInt(archive.block))) metas.add(meta)
  const check = await checkArchive(archive, (address) => metas.has(address.toLowerCase()))
  return { ...accountEpoch(archive, check.valid, check.grants), rejected: check.rejected.length }
}

/**
 * What a co-signer checks before it signs: the archive's claims about the chain (the previous
 * roots settled on chain, each payer's credit and cap, the depositors and the emission, at the
 * archive's block) against the chain itself, then the report's roots and totals recomputed from
 * the archive's receipts. Throws `ReportMismatchError` naming the first difference.
 */
export async function recomputeReport(
  archive: EpochArchive,
  report: { epoch: number; rewardRoot: string; spendRoot: string; totalRewards: string; totalSpent: string },
  chain: SettlementChain,
): Promise<EpochAccounting> {
  const fail = (reason: string) => new ReportMismatchError({ epoch: report.epoch, reason })
  if (archive.epoch !== report.epoch) throw fail(`the archive is of epoch ${archive.epoch}`)
  if (archive.chainId !== chain.chainId || archive.settlement.toLowerCase() !== chain.settlement.toLowerCase()) throw fail('the archive names another chain')
  const state = await chain.state()
  if (report.epoch !== state.lastEpoch + 1) throw fail(`the chain expects epoch ${state.lastEpoch + 1}`)
  if (archive.previous.epoch !== state.lastEpoch) throw fail('its previous tables are not of the last settled epoch')
  if (rootOf(amounts(archive.previous.rewards)) !== state.rewardRoot) throw fail('its previous rewards are not the settled reward tree')
  if (rootOf(amounts(archive.previous.spends)) !== state.spendRoot) throw fail('its previous spends are not the settled spend tree')
  const block = BigInt(archive.block)
  if (block > (await chain.blockNumber())) throw fail('its block is in the future')
  if (BigInt(archive.emission) !== (await chain.emission())) throw fail("its emission is not the settlement's")
  const depositors = await chain.depositors(block)
  if (
    depositors.join() !==
    [...archive.depositors]
      .map((a) => a.toLowerCase())
      .sort()
      .join()
  )
    throw fail('its depositors are not the chain’s')
  const spentBefore = amounts(archive.previous.spends)
  for (const c of archive.credit) {
    const onChain = await chain.credit(c.payer, block)
    const used = onChain.withdrawn + onChain.pending + (spentBefore.get(c.payer.toLowerCase()) ?? 0n)
    const available = onChain.deposited > used ? onChain.deposited - used : 0n
    if (BigInt(c.available) !== available || BigInt(c.cap) !== onChain.cap) throw fail(`the credit of ${c.payer} is not the chain's`)
  }
  const counted = await accountArchive(archive, chain)
  if (counted.rewardRoot !== report.rewardRoot || String(counted.totalRewards) !== report.totalRewards) throw fail('its rewards are not what the receipts earn')
  if (counted.spendRoot !== report.spendRoot || String(counted.totalSpent) !== report.totalSpent) throw fail('its spends are not what the receipts cost')
  return counted
}

function amounts(entries: ReadonlyArray<readonly [string, string]>): Map<string, bigint> {
  return new Map(entries.map(([account, amount]) => [account.toLowerCase(), BigInt(amount)]))
}
