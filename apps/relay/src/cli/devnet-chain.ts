import {
  ANVIL_ACCOUNT_0,
  type ContractAddresses,
  creditAbi,
  DEPLOY_DEFAULTS,
  deployKonbini,
  konbiniTokenAbi,
  type LocalChain,
  startAnvil,
} from '@konbini/contracts'
import type { PrivateKey } from '@libp2p/interface'
import { type Account, createPublicClient, createTestClient, createWalletClient, defineChain, type Hex, http, parseEther } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { registerNode } from '../chain/node-registration.ts'

/** The devnet's chain: anvil with Konbini's contracts deployed and the meta nodes whitelisted. */
export interface DevnetChain {
  anvil: LocalChain
  contracts: ContractAddresses
  /** Registers a resource node (its operator funded with gas and the minimum stake first). */
  registerNode(operator: PrivateKeyAccount, peerKey: PrivateKey): Promise<void>
  stop(): Promise<void>
}

/** Gas money each devnet account gets on anvil. */
const DEVNET_ETH = parseEther('1000')
/** Traffic credit the dev account starts with: 1,000 KBT pays for 1,000 GiB. */
export const DEVNET_CREDIT = parseEther('1000')
/** Traffic credit the portal's devnet wallet (anvil's unlocked account 0) starts with. */
export const PORTAL_WALLET_CREDIT = parseEther('100')

/**
 * Starts anvil on 127.0.0.1 and deploys the contracts with the dev account as deployer (it holds
 * the token supply) and `metas` whitelisted, a quorum of `quorum` (default 1) of their signatures per report.
 */
export async function startDevnetChain(init: {
  port: number
  devAccount: Account
  metas: readonly Hex[]
  chainId: number
  quorum?: number
  emissionPerEpoch?: bigint
}): Promise<DevnetChain> {
  const anvil = await startAnvil({ port: init.port, chainId: init.chainId })
  try {
    const chain = defineChain({
      id: init.chainId,
      name: 'Konbini devnet',
      nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
      rpcUrls: { default: { http: [anvil.rpcUrl] } },
    })
    const transport = http(anvil.rpcUrl)
    const test = createTestClient({ mode: 'anvil', chain, transport })
    const pub = createPublicClient({ chain, transport })
    await test.setBalance({ address: init.devAccount.address, value: DEVNET_ETH })
    // meta nodes pay the gas of their epoch reports
    for (const meta of init.metas) await test.setBalance({ address: meta, value: DEVNET_ETH })
    const contracts = await deployKonbini({
      rpcUrl: anvil.rpcUrl,
      chain,
      deployer: init.devAccount,
      metas: init.metas,
      quorum: init.quorum ?? 1,
      ...(init.emissionPerEpoch !== undefined && { emissionPerEpoch: init.emissionPerEpoch }),
    })
    const dev = createWalletClient({ account: init.devAccount, chain, transport })
    const mined = async (hash: Hex) => {
      const receipt = await pub.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new Error(`devnet chain: transaction ${hash} reverted`)
      return receipt
    }
    await mined(await dev.writeContract({ address: contracts.token, abi: konbiniTokenAbi, functionName: 'approve', args: [contracts.credit, DEVNET_CREDIT] }))
    await mined(await dev.writeContract({ address: contracts.credit, abi: creditAbi, functionName: 'deposit', args: [DEVNET_CREDIT] }))
    // the portal's wallet on a devnet (anvil's unlocked account 0, signing through the RPC) gets credit of its own
    const portal = createWalletClient({ account: ANVIL_ACCOUNT_0, chain, transport })
    await test.setBalance({ address: ANVIL_ACCOUNT_0, value: DEVNET_ETH })
    await mined(
      await dev.writeContract({ address: contracts.token, abi: konbiniTokenAbi, functionName: 'transfer', args: [ANVIL_ACCOUNT_0, PORTAL_WALLET_CREDIT] }),
    )
    await mined(
      await portal.writeContract({ address: contracts.token, abi: konbiniTokenAbi, functionName: 'approve', args: [contracts.credit, PORTAL_WALLET_CREDIT] }),
    )
    await mined(await portal.writeContract({ address: contracts.credit, abi: creditAbi, functionName: 'deposit', args: [PORTAL_WALLET_CREDIT] }))
    return {
      anvil,
      contracts,
      async registerNode(operator, peerKey) {
        const stake = DEPLOY_DEFAULTS.minNodeStake
        await test.setBalance({ address: operator.address, value: DEVNET_ETH })
        await mined(await dev.writeContract({ address: contracts.token, abi: konbiniTokenAbi, functionName: 'transfer', args: [operator.address, stake] }))
        const wallet = createWalletClient({ account: operator, chain, transport })
        await registerNode({ pub, wallet, contracts, mined: async (hash) => ({ gasUsed: (await mined(hash)).gasUsed }) }, peerKey, stake)
      },
      stop: () => anvil.stop(),
    }
  } catch (err) {
    await anvil.stop()
    throw err
  }
}
