import { creditAbi, konbiniTokenAbi, settlementAbi } from '@konbini/contracts'
import type { DevnetFile } from '@konbini/protocol'
import {
  type Abi,
  type Address,
  type BaseError as ViemError,
  ContractFunctionRevertedError,
  createPublicClient,
  createTestClient,
  createWalletClient,
  defineChain,
  http,
  parseEther,
} from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { expect, vi } from 'vitest'

/** One contract call, to any of the contracts. */
export interface ContractCall {
  address: Address
  abi: Abi | readonly unknown[]
  functionName: string
  args: readonly unknown[]
}

/**
 * What the chain tests do on a devnet's chain: send a call as an account (and expect it mined),
 * simulate one to get the custom error it reverts with, read balances and epochs, fund accounts.
 */
export function devnetChainClients(chain: NonNullable<DevnetFile['chain']>) {
  const definition = defineChain({
    id: chain.chainId,
    name: 'devnet',
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [chain.rpcUrl] } },
  })
  const transport = http(chain.rpcUrl)
  const pub = createPublicClient({ transport, chain: definition })
  const token = { address: chain.contracts.token as Address, abi: konbiniTokenAbi } as const
  const credit = { address: chain.contracts.credit as Address, abi: creditAbi } as const
  const settlement = { address: chain.contracts.settlement as Address, abi: settlementAbi } as const

  async function send(by: PrivateKeyAccount, call: ContractCall) {
    const hash = await createWalletClient({ account: by, transport, chain: definition }).writeContract(call as never)
    const receipt = await pub.waitForTransactionReceipt({ hash })
    expect(receipt.status).toBe('success')
    return receipt
  }

  const lastEpoch = async () => Number(await pub.readContract({ ...settlement, functionName: 'lastEpoch' }))

  return {
    pub,
    token,
    credit,
    settlement,
    send,
    lastEpoch,
    /** The contract's custom error name a call reverts with (simulated: nothing is sent), or undefined when it would succeed. */
    async revertName(by: PrivateKeyAccount, call: ContractCall): Promise<string | undefined> {
      try {
        await pub.simulateContract({ ...call, account: by } as never)
        return undefined
      } catch (err) {
        const reverted = (err as ViemError).walk((e) => e instanceof ContractFunctionRevertedError)
        return (reverted as ContractFunctionRevertedError | null)?.data?.errorName
      }
    },
    balanceOf: (address: Address) => pub.readContract({ ...token, functionName: 'balanceOf', args: [address] }),
    /** Waits until the chain has settled `epoch`. */
    settledThrough: (epoch: number) => vi.waitFor(async () => expect(await lastEpoch()).toBeGreaterThanOrEqual(epoch), { timeout: 60_000, interval: 500 }),
    /** Gives `who` gas and `tokens` KBT from `from`, then deposits `deposit` of them as its credit. */
    async fund(from: PrivateKeyAccount, who: PrivateKeyAccount, tokens: bigint, deposit: bigint): Promise<void> {
      await createTestClient({ mode: 'anvil', transport, chain: definition }).setBalance({ address: who.address, value: parseEther('10') })
      if (tokens > 0n) await send(from, { ...token, functionName: 'transfer', args: [who.address, tokens] })
      if (deposit === 0n) return
      await send(who, { ...token, functionName: 'approve', args: [credit.address, deposit] })
      await send(who, { ...credit, functionName: 'deposit', args: [deposit] })
    },
  }
}
