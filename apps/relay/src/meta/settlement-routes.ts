import {
  ChainUnavailableError,
  type EpochResponse,
  PROVIDER_FEE_PERCENT,
  PRICE_PER_GIB,
  GIB,
  type RewardsResponse,
  type SpendResponse,
} from '@konbini/protocol'
import type { Address } from 'viem'
import { treeOf } from '../pot/epoch-accounting.ts'
import type { MetaContext } from './context.ts'
import type { EpochRow } from './db/pot-store.ts'
import type { StoredReport } from './epochs.ts'

function reportOf(row: EpochRow | undefined): StoredReport | undefined {
  return row?.report ? (JSON.parse(row.report) as StoredReport) : undefined
}

function clock(ctx: MetaContext) {
  if (ctx.epochs === undefined) throw new ChainUnavailableError({ reason: 'no epochs are kept' })
  return ctx.epochs
}

/** `GET /v1/epoch`: the open epoch and the last report settled on chain. */
export async function epochStatus(ctx: MetaContext): Promise<EpochResponse> {
  const current = await clock(ctx).current()
  const last = await ctx.pot.lastSettled()
  const report = reportOf(last)
  return {
    epoch: current.epoch,
    endsAt: current.endsAt,
    lastReport: last && report ? { ...report.report, txHash: last.txHash as string, gasUsed: last.gasUsed ?? 0 } : null,
  }
}

/** `GET /v1/rewards/{account}`: cumulative rewards in the settled tree with the proof to claim them, per-epoch earnings and what is pending. */
export async function rewardsOf(ctx: MetaContext, account: Address): Promise<RewardsResponse> {
  clock(ctx)
  const key = account.toLowerCase()
  const settled = await ctx.pot.epochsIn('settled')
  const last = settled.at(-1)
  const report = reportOf(last)
  const tree = report ? treeOf(report.rewards) : undefined
  const cumulative = tree?.amountOf(account) ?? 0n
  const epochs = settled.flatMap((row) => {
    const earned = reportOf(row)?.earned.find(([a]) => a === key)?.[1]
    return earned === undefined ? [] : [{ epoch: row.epoch, earned }]
  })
  // closed but not yet on chain: their computed amounts; open: the fee share of receipts so far
  let pending = 0n
  for (const row of await ctx.pot.epochsIn('closed')) pending += BigInt(reportOf(row)?.earned.find(([a]) => a === key)?.[1] ?? '0')
  const since = ((await ctx.pot.lastReported())?.epoch ?? 0) + 1
  const served = await ctx.pot.pendingByProvider(since)
  const keys = [key, ...(await ctx.pot.keysGrantedTo(key, ctx.now()))]
  const peers = (await Promise.all(keys.map((k) => ctx.pot.peersOf(k)))).flat()
  for (const peer of peers) pending += (BigInt(served.get(peer) ?? 0) * PRICE_PER_GIB * PROVIDER_FEE_PERCENT) / (100n * GIB)
  return {
    account,
    epoch: last?.epoch ?? 0,
    cumulative: String(cumulative),
    proof: tree && cumulative > 0n ? tree.proof(account) : [],
    epochs,
    pending: String(pending),
  }
}

/** `GET /v1/credit/{account}`: cumulative spend in the settled spend tree with its proof (for `Credit.withdraw`), and what is pending. */
export async function spendOf(ctx: MetaContext, account: Address): Promise<SpendResponse> {
  clock(ctx)
  const last = await ctx.pot.lastSettled()
  const report = reportOf(last)
  const tree = report ? treeOf(report.spends) : undefined
  const inTree = tree?.amountOf(account)
  let pending = 0n
  for (const row of await ctx.pot.epochsIn('closed')) pending += BigInt(reportOf(row)?.spent.find(([a]) => a === account.toLowerCase())?.[1] ?? '0')
  const since = ((await ctx.pot.lastReported())?.epoch ?? 0) + 1
  pending += (BigInt(await ctx.pot.pendingBytesOf(account, since)) * PRICE_PER_GIB) / GIB
  return {
    account,
    epoch: last?.epoch ?? 0,
    cumulativeSpent: String(inTree ?? 0n),
    proof: tree && inTree !== undefined ? tree.proof(account) : [],
    pending: String(pending),
  }
}
