'use client'

import { Card } from '@konbini/ui'
import { useReadContract } from 'wagmi'
import { formatKbt, rewardFormula } from '../../lib/wallet/rewards.ts'
import type { WalletChain } from '../../lib/wallet/wallet-config.ts'

/** How rewards are computed (docs/PROTOCOL.md), with the chain's emission per epoch. */
export function RewardFormula({ chain }: { chain: WalletChain }) {
  const emission = useReadContract({ address: chain.contracts.settlement, abi: chain.abi.settlement, functionName: 'emissionPerEpoch', chainId: chain.chainId })
  const { pricePerGiB, feePercent, emissionCapPercent } = rewardFormula
  return (
    <Card title="How rewards are computed">
      <div className="flex flex-col gap-2 text-sm" data-testid="reward-formula">
        <p>
          Per epoch, an account that served <i>b</i> counted bytes (its nodes&apos; and its donor tabs&apos;, summed) of the epoch&apos;s <i>B</i> earns:
        </p>
        <ul className="list-disc pl-5 font-mono text-xs">
          <li>
            fee = floor(b × P × {feePercent} / (100 × 2^30)), with P = {formatKbt(pricePerGiB)} per GiB: {feePercent} % of what the payer pays
          </li>
          <li>
            emission = min(floor(E × b / B), floor(b × P × {emissionCapPercent} / (100 × 2^30))), with E ={' '}
            <span data-testid="reward-emission" data-value={emission.data === undefined ? '' : String(emission.data)}>
              {emission.data === undefined ? '…' : formatKbt(emission.data)}
            </span>{' '}
            per epoch
          </li>
          <li>reward = fee + emission</li>
        </ul>
        <p className="text-zinc-600 dark:text-zinc-300">
          Pending is the fee share of receipts in the open epoch, plus what closed epochs earned before their report is on chain. Once the meta quorum&apos;s
          report is settled, the amount becomes claimable here.
        </p>
      </div>
    </Card>
  )
}
