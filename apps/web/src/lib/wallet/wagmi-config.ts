import { QueryClient } from '@tanstack/react-query'
import { defineChain } from 'viem'
import { type Config, createConfig, http, injected, mock } from 'wagmi'
import type { WalletChain } from './wallet-config.ts'

/** The chain as viem and wagmi name it: the devnet's RPC, its id, gas in ETH. */
export function konbiniChain(chain: Pick<WalletChain, 'chainId' | 'rpcUrl'>) {
  return defineChain({
    id: chain.chainId,
    name: 'Konbini devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [chain.rpcUrl] } },
  })
}

/**
 * The wagmi config of a wallet page: the one chain, the `injected` connector with EIP-6963
 * discovery (each wallet that announces itself becomes a connector), and on a devnet a `mock`
 * connector for anvil's unlocked dev account, which sends signing requests to the chain's RPC.
 * @example const config = createWalletConfig(chain)
 */
export function createWalletConfig(chain: WalletChain): Config {
  const konbini = konbiniChain(chain)
  return createConfig({
    chains: [konbini],
    connectors: [injected(), ...(chain.devAccount ? [mock({ accounts: [chain.devAccount], features: { reconnect: true } })] : [])],
    multiInjectedProviderDiscovery: true,
    transports: { [konbini.id]: http(chain.rpcUrl) },
    // the server renders without a wallet; the tab reconnects after hydration
    ssr: true,
  })
}

let shared: { key: string; config: Config; queryClient: QueryClient } | undefined

/**
 * The tab's one wagmi config and query client, kept across page navigations so a connected wallet
 * stays connected from the Rewards page to the Donate page.
 * @example const { config, queryClient } = getWalletClients(chain)
 */
export function getWalletClients(chain: WalletChain): { config: Config; queryClient: QueryClient } {
  // the server renders each request with its own (a query cache must not outlive a request there)
  if (typeof window === 'undefined') return { config: createWalletConfig(chain), queryClient: new QueryClient() }
  const key = JSON.stringify({ chainId: chain.chainId, rpcUrl: chain.rpcUrl, devAccount: chain.devAccount })
  if (shared?.key !== key) shared = { key, config: createWalletConfig(chain), queryClient: new QueryClient() }
  return shared
}
