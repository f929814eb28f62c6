import { type Account, type Address, type Chain, createPublicClient, createWalletClient, type Hex, http, parseEther } from 'viem'
import {
  creditAbi,
  creditBytecode,
  konbiniTokenAbi,
  konbiniTokenBytecode,
  registryAbi,
  registryBytecode,
  settlementAbi,
  settlementBytecode,
} from './artifacts.ts'

/** Where Konbini's contracts live on one chain (`devnet.json`'s `chain.contracts`). */
export interface ContractAddresses {
  token: Address
  registry: Address
  credit: Address
  settlement: Address
}

export interface DeployInit {
  rpcUrl: string
  chain: Chain
  /** Deploys, holds the supply, and funds the emission reserve. */
  deployer: Account
  /** Meta nodes whitelisted from the start. */
  metas: readonly Address[]
  /** Distinct meta signatures needed for a report or a slash (devnet 1, tests 2 of 3). */
  quorum: number
  supply?: bigint
  minNodeStake?: bigint
  unbondingSeconds?: number
  withdrawDelayEpochs?: number
  emissionPerEpoch?: bigint
  /** Tokens put in the emission reserve at deployment. */
  reserve?: bigint
}

/** Defaults for a devnet (documented in docs/PROTOCOL.md, "Chain"). */
export const DEPLOY_DEFAULTS = {
  supply: parseEther('1000000000'),
  minNodeStake: parseEther('1000'),
  unbondingSeconds: 7 * 24 * 3600,
  withdrawDelayEpochs: 2,
  emissionPerEpoch: parseEther('10'),
  reserve: parseEther('10000000'),
} as const

/**
 * Deploys the token, registry, credit vault and settlement, links the vault to the settlement and
 * funds the emission reserve; resolves with their addresses once every transaction is mined.
 * @example const addresses = await deployKonbini({ rpcUrl, chain, deployer, metas: [meta], quorum: 1 })
 */
export async function deployKonbini(init: DeployInit): Promise<ContractAddresses> {
  const d = { ...DEPLOY_DEFAULTS, ...init }
  const transport = http(init.rpcUrl)
  const wallet = createWalletClient({ account: init.deployer, chain: init.chain, transport })
  const pub = createPublicClient({ chain: init.chain, transport })
  const mined = async (hash: Hex) => {
    const receipt = await pub.waitForTransactionReceipt({ hash })
    if (receipt.status !== 'success') throw new Error(`transaction ${hash} reverted`)
    return receipt
  }
  const deployed = async (hash: Hex) => {
    const address = (await mined(hash)).contractAddress
    if (!address) throw new Error(`transaction ${hash} created no contract`)
    return address
  }
  const token = await deployed(await wallet.deployContract({ abi: konbiniTokenAbi, bytecode: konbiniTokenBytecode, args: [init.deployer.address, d.supply] }))
  const registry = await deployed(
    await wallet.deployContract({
      abi: registryAbi,
      bytecode: registryBytecode,
      args: [token, d.minNodeStake, BigInt(d.unbondingSeconds), BigInt(d.quorum), [...init.metas]],
    }),
  )
  const credit = await deployed(await wallet.deployContract({ abi: creditAbi, bytecode: creditBytecode, args: [token, BigInt(d.withdrawDelayEpochs)] }))
  const settlement = await deployed(
    await wallet.deployContract({
      abi: settlementAbi,
      bytecode: settlementBytecode,
      args: [registry, credit, BigInt(d.quorum), d.emissionPerEpoch, [...init.metas]],
    }),
  )
  await mined(await wallet.writeContract({ address: credit, abi: creditAbi, functionName: 'link', args: [settlement] }))
  await mined(await wallet.writeContract({ address: registry, abi: registryAbi, functionName: 'link', args: [settlement] }))
  await mined(await wallet.writeContract({ address: token, abi: konbiniTokenAbi, functionName: 'approve', args: [credit, d.reserve] }))
  await mined(await wallet.writeContract({ address: credit, abi: creditAbi, functionName: 'fundReserve', args: [d.reserve] }))
  return { token, registry, credit, settlement }
}
