import { existsSync } from 'node:fs'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { devnetChain } from '@konbini/protocol'
import {
  ANVIL_ACCOUNT_0,
  type ContractAddresses,
  creditAbi,
  DEPLOY_DEFAULTS,
  deployKonbini,
  konbiniTokenAbi,
  type LocalChain,
  registryAbi,
  startAnvil,
} from '@konbini/contracts'
import type { PrivateKey } from '@libp2p/interface'
import { type Account, createPublicClient, createTestClient, createWalletClient, defineChain, type Hex, http, parseEther } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { registerNode, registryNodeId } from '../chain/node-registration.ts'

/** anvil's state, in the devnet's chain folder. */
const STATE_FILE = 'state.json'
/** The contracts' addresses on that state. */
const CONTRACTS_FILE = 'contracts.json'

/** The addresses of a chain saved in `dir`, when its state is there too. */
async function loadSavedChain(dir: string): Promise<ContractAddresses | undefined> {
  if (!existsSync(join(dir, STATE_FILE))) return undefined
  const text = await readFile(join(dir, CONTRACTS_FILE), 'utf8').catch(() => undefined)
  if (text === undefined) return undefined
  const parsed = devnetChain.shape.contracts.safeParse(JSON.parse(text))
  if (!parsed.success) return undefined
  return parsed.data as ContractAddresses
}

/** The devnet's chain: anvil with Konbini's contracts deployed and the meta nodes whitelisted. */
export interface DevnetChain {
  anvil: LocalChain
  contracts: ContractAddresses
  /** Whether the chain was loaded from its saved state (not deployed now). */
  resumed: boolean
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
  /**
   * A folder the chain lives in across restarts (anvil's state, the contracts' addresses): a
   * devnet started again on the same data folder finds its stakes, credit, reports and claims.
   */
  stateDir?: string
}): Promise<DevnetChain> {
  const saved = init.stateDir === undefined ? undefined : await loadSavedChain(init.stateDir)
  if (init.stateDir !== undefined) {
    await mkdir(init.stateDir, { recursive: true })
    // a state without its addresses (a first start cut short) is of no use
    if (saved === undefined) await rm(join(init.stateDir, STATE_FILE), { force: true })
  }
  const anvil = await startAnvil({
    port: init.port,
    chainId: init.chainId,
    ...(init.stateDir !== undefined && { state: join(init.stateDir, STATE_FILE) }),
  })
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
    const dev = createWalletClient({ account: init.devAccount, chain, transport })
    const mined = async (hash: Hex) => {
      const receipt = await pub.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new Error(`devnet chain: transaction ${hash} reverted`)
      return receipt
    }
    if (saved !== undefined && (await pub.getCode({ address: saved.registry })) === undefined)
      throw new Error(`devnet chain: the saved chain in ${init.stateDir} has no contracts; delete that folder to start a new chain`)
    /** A new chain: contracts deployed, the dev account and the portal's wallet funded with credit. */
    const deployFresh = async (): Promise<ContractAddresses> => {
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
      return contracts
    }
    const contracts = saved ?? (await deployFresh())
    if (saved === undefined && init.stateDir !== undefined) await writeFile(join(init.stateDir, CONTRACTS_FILE), `${JSON.stringify(contracts, null, 2)}\n`)
    return {
      anvil,
      contracts,
      resumed: saved !== undefined,
      async registerNode(operator, peerKey) {
        // a chain that outlived its devnet already has it
        const [registeredBy] = await pub.readContract({ address: contracts.registry, abi: registryAbi, functionName: 'nodes', args: [registryNodeId(peerKey)] })
        if (registeredBy.toLowerCase() === operator.address.toLowerCase()) return
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
