'use client'

import { Card, Notice } from '@konbini/ui'
import { useEffect } from 'react'
import { useSessionGrant } from '../../lib/wallet/use-session-grant.ts'
import type { WalletChain } from '../../lib/wallet/wallet-config.ts'
import { AuthorizeButton } from '../wallet/authorize-button.tsx'
import { ConnectWallet } from '../wallet/connect-wallet.tsx'

export interface PayCardProps {
  metaUrls: string[]
  chain: WalletChain
  protocolChainId: number
  /** This browser's own key, which the wallet authorizes. */
  sessionKey: string
  /** Called once the key acts for a wallet (the listing then shows the wallet's files). */
  onGranted: () => void
}

/**
 * "Pay with your wallet": on a network with a chain, uploads and downloads are paid from credit.
 * The wallet authorizes this browser's key once (EIP-712 `SessionGrant`); the key then spends the
 * wallet's credit and acts for the wallet's files — the wallet's key never comes near the page.
 */
export function PayCard({ metaUrls, chain, protocolChainId, sessionKey, onGranted }: PayCardProps) {
  const { wallet, grant, granted, authorize } = useSessionGrant({ metaUrls, sessionKey, protocolChainId })
  useEffect(() => {
    if (granted) onGranted()
  }, [granted, onGranted])
  return (
    <Card title="Pay with your wallet">
      <div className="flex flex-col gap-4" data-testid="pay-card" data-grant={grant.state}>
        <p className="text-sm">
          Uploads and downloads are paid from a wallet&apos;s prepaid credit (<span className="font-mono text-xs">konbini prepay</span>). Connect a wallet and
          authorize this browser once: its own key then spends the wallet&apos;s credit and lists the wallet&apos;s files.
        </p>
        <ConnectWallet devAccount={chain.devAccount} />
        {wallet !== undefined &&
          (granted ? (
            <p className="text-sm" data-testid="pay-granted" data-wallet={wallet}>
              This browser acts for <span className="font-mono text-xs">{wallet}</span>.
            </p>
          ) : (
            <AuthorizeButton grant={grant} onAuthorize={() => void authorize()} testId="pay-authorize">
              Authorize this browser for {wallet}
            </AuthorizeButton>
          ))}
        {grant.state === 'error' && (
          <Notice tone="error" title="Not authorized">
            <span data-testid="pay-error">{grant.message}</span>
          </Notice>
        )}
      </div>
    </Card>
  )
}
