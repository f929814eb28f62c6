'use client'

import { Card, Notice } from '@konbini/ui'
import { useConnection } from 'wagmi'
import type { WalletChain } from '../../lib/wallet/wallet-config.ts'
import { ConnectWallet } from '../wallet/connect-wallet.tsx'
import { RewardFormula } from './reward-formula.tsx'
import { RewardsView } from './rewards-view.tsx'

/** The Rewards page in the tab: connect a wallet, then its earnings, the claim, and the formula. */
export function RewardsApp({ metaUrls, chain }: { metaUrls: string[]; chain: WalletChain }) {
  const connection = useConnection()
  return (
    <div className="flex flex-col gap-6" data-testid="rewards-app">
      <Card title="Wallet">
        <ConnectWallet devAccount={chain.devAccount} />
      </Card>
      {connection.status === 'connected' ? (
        <RewardsView account={connection.address} metaUrls={metaUrls} chain={chain} />
      ) : (
        <Notice title="Connect a wallet to see its rewards">
          Rewards go to the wallet that served traffic: a node&apos;s operator, or the wallet a donor tab is authorized to earn for (on the Donate page).
        </Notice>
      )}
      <RewardFormula chain={chain} />
    </div>
  )
}
