import type { ContractAddresses } from '@konbini/contracts'
import { BaseError } from '@konbini/protocol'
import {
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  type Hex,
  http,
  type PublicClient,
  type Transport,
  type WalletClient,
} from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { findDevnet, type GlobalFlags, openMeta } from './context.ts'

export class NoChainError extends BaseError {
  override name = 'NoChainError' as const
  constructor() {
    super('No chain configured: start the devnet with `npm start` (it writes the chain into .konbini/devnet.json).')
  }
}

export class TransactionRevertedError extends BaseError {
  override name = 'TransactionRevertedError' as const
  constructor({ hash }: { hash: Hex }) {
    super(`The transaction ${hash} was reverted by the chain.`)
  }
}

/** The user's account on the configured chain, with clients and the contracts' addresses. */
export interface ChainContext {
  account: PrivateKeyAccount
  contracts: { [K in keyof ContractAddresses]: Address }
  pub: PublicClient<Transport, Chain>
  wallet: WalletClient<Transport, Chain, PrivateKeyAccount>
  /** Waits for `hash` to be mined; throws {@link TransactionRevertedError} if it reverted. */
  mined(hash: Hex): Promise<{ gasUsed: bigint }>
}

export class ChainRefusedError extends BaseError {
  override name = 'ChainRefusedError' as const
  constructor({ error, sentence }: { error: string; sentence: string }) {
    super(sentence, { details: error })
  }
}

/**
 * Runs a chain call and turns a contract's revert into one sentence (`sentences` by error name,
 * else the error's name), e.g. `NodeExists` → "This node is already registered.".
 */
export async function refusedAs<T>(call: Promise<T>, sentences: Record<string, string>): Promise<T> {
  try {
    return await call
  } catch (err) {
    const reverted = (err as BaseErrorLike).walk?.((e) => (e as { name?: string }).name === 'ContractFunctionRevertedError') as
      | { data?: { errorName?: string } }
      | null
      | undefined
    const name = reverted?.data?.errorName
    if (name === undefined) {
      // no ETH for gas is the other common refusal: say it in one sentence
      if ((err as BaseErrorLike).walk?.((e) => (e as { name?: string }).name === 'InsufficientFundsError'))
        throw new ChainRefusedError({ error: 'InsufficientFundsError', sentence: 'The account has no ETH to pay for gas on this chain.' })
      throw err
    }
    throw new ChainRefusedError({ error: name, sentence: sentences[name] ?? `The chain refused the transaction (${name}).` })
  }
}

interface BaseErrorLike {
  walk?: (fn: (e: unknown) => boolean) => unknown
}

/** The chain from the devnet file (RPC URL, chain id, contracts) and the user's key (as other commands choose it), or `as` another account (a node's operator). */
export async function openChain(flags: GlobalFlags, as?: PrivateKeyAccount): Promise<ChainContext> {
  const devnet = await findDevnet()
  if (devnet?.chain === undefined) throw new NoChainError()
  const account = as ?? (await openMeta(flags)).account
  const { rpcUrl, chainId, contracts } = devnet.chain
  const chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [rpcUrl] } },
  })
  const transport = http(rpcUrl)
  const pub = createPublicClient({ chain, transport })
  const wallet = createWalletClient({ account, chain, transport })
  return {
    account,
    contracts: contracts as ChainContext['contracts'],
    pub,
    wallet,
    async mined(hash) {
      const receipt = await pub.waitForTransactionReceipt({ hash })
      if (receipt.status !== 'success') throw new TransactionRevertedError({ hash })
      return { gasUsed: receipt.gasUsed }
    },
  }
}
