import { Notice } from '@konbini/ui'
import type { Metadata } from 'next'
import { connection } from 'next/server'
import { PageShell } from '../../components/page-shell.tsx'
import { RewardsApp } from '../../components/rewards/rewards-app.tsx'
import { WalletProvider } from '../../components/wallet/wallet-provider.tsx'
import { readEnv } from '../../env.ts'
import { toShownError } from '../../lib/overview.ts'
import { loadWalletConfig, type WalletConfig } from '../../lib/wallet/wallet-config.ts'

export const metadata: Metadata = { title: 'Konbini — rewards' }

/** A wallet's earnings from served traffic: pending, claimable, claimed, per epoch, and the claim. */
export default async function RewardsPage() {
  await connection()
  let config: WalletConfig
  try {
    config = await loadWalletConfig(await readEnv())
  } catch (err) {
    config = { metaUrls: [], state: 'missing', reason: toShownError(err).message }
  }
  return (
    <PageShell title="Rewards" subtitle="What your wallet earned for served traffic, and the claim">
      {config.state === 'ok' ? (
        <WalletProvider chain={config.chain}>
          <RewardsApp metaUrls={config.metaUrls} chain={config.chain} />
        </WalletProvider>
      ) : (
        <Notice tone="error" title="This page cannot reach the chain">
          <span data-testid="rewards-missing">{config.reason}</span>
        </Notice>
      )}
    </PageShell>
  )
}
