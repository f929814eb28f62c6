'use client'

import { QueryClientProvider } from '@tanstack/react-query'
import type { ReactNode } from 'react'
import { WagmiProvider } from 'wagmi'
import { getWalletClients } from '../../lib/wallet/wagmi-config.ts'
import type { WalletChain } from '../../lib/wallet/wallet-config.ts'

/** wagmi and TanStack Query for the pages that use a wallet (Rewards, Donate). */
export function WalletProvider({ chain, children }: { chain: WalletChain; children: ReactNode }) {
  const { config, queryClient } = getWalletClients(chain)
  return (
    <WagmiProvider config={config}>
      <QueryClientProvider client={queryClient}>{children}</QueryClientProvider>
    </WagmiProvider>
  )
}
