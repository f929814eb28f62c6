import { creditAbi, registryAbi, settlementAbi } from '@konbini/contracts'
import { registryNodeId } from '../chain/node-registration.ts'
import type { ChainContracts, EpochReport } from '@konbini/protocol'
import { type Address, createPublicClient, createWalletClient, defineChain, type Hex, http, parseAbiItem } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'

/** A payer's credit as the contracts hold it at one block. */
export interface CreditState {
  deposited: bigint
  withdrawn: bigint
  /** Asked to withdraw: no longer spendable. */
  pending: bigint
  /** Most it pays per epoch for others' downloads of its files. */
  cap: bigint
}

/** A node's entry in the Registry (operator 0x0…0: not registered). */
export interface NodeStake {
  operator: string
  stake: bigint
  /** Its operator asked to unstake. */
  unbonding: boolean
}

/** What a meta node reads from and sends to the settlement contracts. */
export interface SettlementChain {
  chainId: number
  settlement: Address
  blockNumber(): Promise<bigint>
  lastEpoch(block?: bigint): Promise<number>
  /** The settled roots (the previous report's) and the signatures a report needs. */
  state(): Promise<{ lastEpoch: number; rewardRoot: Hex; spendRoot: Hex; quorum: number }>
  emission(): Promise<bigint>
  isMeta(address: string, block?: bigint): Promise<boolean>
  credit(payer: string, block?: bigint): Promise<CreditState>
  /** Every account that has deposited credit up to `block`. */
  depositors(block: bigint): Promise<string[]>
  /** A resource node's stake in the Registry, by peer id. */
  nodeStake(peerId: string): Promise<NodeStake>
  /** The least stake the Registry takes for a node. */
  minNodeStake(): Promise<bigint>
  /** Submits a report with its packed quorum signatures; resolves once mined. */
  submit(report: EpochReport, signatures: Hex): Promise<{ txHash: Hex; gasUsed: bigint }>
  /** The Registry (the slash orders' EIP-712 verifying contract). */
  registry: Address
  /** Burns `amount` of a node's stake with a quorum's packed signatures; resolves once mined. */
  slash(order: { node: Hex; amount: bigint; nonce: bigint }, signatures: Hex): Promise<{ txHash: Hex }>
}

const deposited = parseAbiItem('event Deposited(address indexed account, uint256 amount)')

/** Opens the chain a meta node settles on, sending transactions as `account`. */
export async function openSettlementChain({
  rpcUrl,
  contracts,
  account,
}: {
  rpcUrl: string
  contracts: ChainContracts
  account: PrivateKeyAccount
}): Promise<SettlementChain> {
  // concurrent calls in one JSON-RPC batch: a paid ticket reads four credit values (one round trip, not four)
  const transport = http(rpcUrl, { batch: true })
  const probe = createPublicClient({ transport })
  const chainId = await probe.getChainId()
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
  const pub = createPublicClient({ chain, transport })
  const wallet = createWalletClient({ account, chain, transport })
  const settlement = { address: contracts.settlement as Address, abi: settlementAbi } as const
  const credit = { address: contracts.credit as Address, abi: creditAbi } as const
  const registry = { address: contracts.registry as Address, abi: registryAbi } as const
  const at = (block?: bigint) => (block === undefined ? {} : { blockNumber: block })
  return {
    chainId,
    settlement: settlement.address,
    blockNumber: () => pub.getBlockNumber({ cacheTime: 0 }),
    async lastEpoch(block) {
      return Number(await pub.readContract({ ...settlement, functionName: 'lastEpoch', ...at(block) }))
    },
    async state() {
      const [last, rewardRoot, spendRoot, quorum] = await Promise.all([
        pub.readContract({ ...settlement, functionName: 'lastEpoch' }),
        pub.readContract({ ...settlement, functionName: 'rewardRoot' }),
        pub.readContract({ ...settlement, functionName: 'spendRoot' }),
        pub.readContract({ ...settlement, functionName: 'quorum' }),
      ])
      return { lastEpoch: Number(last), rewardRoot, spendRoot, quorum: Number(quorum) }
    },
    emission: () => pub.readContract({ ...settlement, functionName: 'emissionPerEpoch' }),
    isMeta: (address, block) => pub.readContract({ ...settlement, functionName: 'isMeta', args: [address as Address], ...at(block) }),
    async credit(payer, block) {
      const args = [payer as Address] as const
      const [dep, wd, pending, cap] = await Promise.all([
        pub.readContract({ ...credit, functionName: 'deposited', args, ...at(block) }),
        pub.readContract({ ...credit, functionName: 'withdrawn', args, ...at(block) }),
        pub.readContract({ ...credit, functionName: 'pendingWithdrawal', args, ...at(block) }),
        pub.readContract({ ...credit, functionName: 'spendCap', args, ...at(block) }),
      ])
      return { deposited: dep, withdrawn: wd, pending: pending[0], cap }
    },
    async depositors(block) {
      const logs = await pub.getLogs({ address: credit.address, event: deposited, fromBlock: 0n, toBlock: block })
      return [...new Set(logs.map((l) => (l.args.account as string).toLowerCase()))].sort()
    },
    async nodeStake(peerId) {
      const [operator, stake, unbondingEnds] = await pub.readContract({ ...registry, functionName: 'nodes', args: [registryNodeId(peerId)] })
      return { operator, stake: BigInt(stake), unbonding: BigInt(unbondingEnds) !== 0n }
    },
    minNodeStake: () => pub.readContract({ ...registry, functionName: 'minNodeStake' }),
    registry: registry.address,
    async slash(order, signatures) {
      const hash = await wallet.writeContract({ ...registry, functionName: 'slash', args: [order.node, order.amount, order.nonce, signatures] })
      const receipt = await pub.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new Error(`slash ${hash} reverted`)
      return { txHash: hash }
    },
    async submit(report, signatures) {
      const hash = await wallet.writeContract({ ...settlement, functionName: 'submitReport', args: [report, signatures] })
      const receipt = await pub.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new Error(`submitReport ${hash} reverted`)
      return { txHash: hash, gasUsed: receipt.gasUsed }
    },
  }
}
