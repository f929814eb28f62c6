import { ANVIL_ACCOUNT_0, konbiniTokenAbi, settlementAbi } from '@konbini/contracts'
import type { ChainContracts } from '@konbini/protocol'
import type { Address } from 'viem'
import type { WebEnv } from '../../env.ts'
import { readDevnetFile } from '../devnet.ts'
import type { ChainAbis, SettlementCallsAbi, TokenBalanceAbi } from './chain-abi.ts'

/** Anvil's default account 0: unlocked by anvil, so it signs through the chain's RPC (devnet only; the devnet gives it credit). */
export const ANVIL_DEV_ACCOUNT: Address = ANVIL_ACCOUNT_0

/** The chain a wallet page talks to: plain data, handed from the server to the page. */
export interface WalletChain {
  chainId: number
  rpcUrl: string
  contracts: Record<keyof ChainContracts, Address>
  abi: ChainAbis
  /** Devnet only: anvil's unlocked account, offered as "the devnet's dev account". */
  devAccount?: Address
}

/** What a wallet page gets from the server: the meta nodes and the chain, or why there is no chain. */
export type WalletConfig = { metaUrls: string[] } & ({ state: 'ok'; chain: WalletChain } | { state: 'missing'; reason: string })

/** The ABI entries the pages call (see {@link ChainAbis}). */
export function chainAbis(): ChainAbis {
  const settlement = settlementAbi.filter(
    (item) => item.type === 'error' || (item.type === 'function' && ['claim', 'claimed', 'emissionPerEpoch'].includes(item.name)),
  ) as unknown as SettlementCallsAbi
  const token = konbiniTokenAbi.filter(
    (item) => item.type === 'function' && ['balanceOf', 'decimals', 'symbol'].includes(item.name),
  ) as unknown as TokenBalanceAbi
  return { settlement, token }
}

/**
 * Reads the chain of `.konbini/devnet.json` (written by `npm start` with its chain) for the wallet
 * pages: RPC URL, chain id, contract addresses, and anvil's dev account (a devnet always runs anvil).
 * Throws what `readDevnetFile` throws (a named error with a sentence).
 * @example const config = await loadWalletConfig(await readEnv())
 */
export async function loadWalletConfig(env: WebEnv): Promise<WalletConfig> {
  const devnet = await readDevnetFile(env.devnetFile)
  if (devnet?.chain === undefined) {
    return {
      metaUrls: env.metaUrls,
      state: 'missing',
      reason: `No chain: ${env.devnetFile} has no chain section; start the devnet with its chain (\`npm start\`).`,
    }
  }
  const { rpcUrl, chainId } = devnet.chain
  // the schema checked each is a 0x-prefixed 20-byte address
  const contracts = devnet.chain.contracts as Record<keyof ChainContracts, Address>
  return { metaUrls: env.metaUrls, state: 'ok', chain: { chainId, rpcUrl, contracts, abi: chainAbis(), devAccount: ANVIL_DEV_ACCOUNT } }
}
