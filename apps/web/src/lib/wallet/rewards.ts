import { EMISSION_CAP_PERCENT, PRICE_PER_GIB, PROVIDER_FEE_PERCENT, type RewardsResponse } from '@konbini/protocol'
import { formatUnits } from 'viem'

/** KBT has 18 decimals, as ETH. */
export const KBT_DECIMALS = 18

/**
 * An amount of wei as KBT, every significant decimal kept (up to 18).
 * @example formatKbt(1_500_000_000_000_000_000n) // '1.5 KBT'
 */
export function formatKbt(wei: bigint | string): string {
  return `${formatUnits(BigInt(wei), KBT_DECIMALS)} KBT`
}

/** What a claim pays now: the settled cumulative earnings less what the chain says is claimed. */
export function claimableOf(cumulative: bigint, claimed: bigint): bigint {
  return cumulative > claimed ? cumulative - claimed : 0n
}

export type EpochStatus = 'claimed' | 'claimable' | 'pending'

export interface EpochRow {
  /** A settled epoch's number, or `undefined` for what is not settled yet. */
  epoch: number | undefined
  earned: bigint
  status: EpochStatus
}

/**
 * One row per settled epoch the account earned in, oldest first, then one for the pending amount
 * (open or closed epochs not on chain yet) when there is one. Claims are cumulative, so the
 * epochs whose running total the chain has paid are claimed, and the later ones claimable.
 */
export function epochRows(rewards: Pick<RewardsResponse, 'epochs' | 'pending'>, claimed: bigint): EpochRow[] {
  let running = 0n
  const rows: EpochRow[] = [...rewards.epochs]
    .sort((a, b) => a.epoch - b.epoch)
    .map(({ epoch, earned }) => {
      running += BigInt(earned)
      return { epoch, earned: BigInt(earned), status: running <= claimed ? 'claimed' : 'claimable' }
    })
  const pending = BigInt(rewards.pending)
  if (pending > 0n) rows.push({ epoch: undefined, earned: pending, status: 'pending' })
  return rows
}

/** The reward formula's parameters (docs/PROTOCOL.md, "Proof of Traffic and who pays"). */
export const rewardFormula = {
  pricePerGiB: PRICE_PER_GIB,
  feePercent: Number(PROVIDER_FEE_PERCENT),
  emissionCapPercent: Number(EMISSION_CAP_PERCENT),
} as const
