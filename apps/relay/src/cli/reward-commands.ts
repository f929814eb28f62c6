import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { settlementAbi } from '@konbini/contracts'
import { BaseError } from '@konbini/protocol'
import { type Address, formatUnits, getAddress, isAddress, parseEventLogs } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { loadOperatorKey } from '../keys.ts'
import { openChain, refusedAs } from './chain-context.ts'
import { type GlobalFlags, openMeta } from './context.ts'
import { inOneSentence } from './chain-errors.ts'
import { print } from './output.ts'
import { proofOfChainTree, retryOnNewTree } from './settled-tree.ts'

const kbt = (wei: bigint) => `${formatUnits(wei, 18)} KBT`

export class InvalidAddressError extends BaseError {
  override name = 'InvalidAddressError' as const
  constructor({ value }: { value: string }) {
    super(`"${value}" is not an account address: give 0x followed by 40 hexadecimal digits.`)
  }
}

export class NoOperatorKeyError extends BaseError {
  override name = 'NoOperatorKeyError' as const
  constructor({ dataDir }: { dataDir: string }) {
    super(`${dataDir} holds no operator key (operator.key): give the data directory of a node.`)
  }
}

export class NothingToClaimError extends BaseError {
  override name = 'NothingToClaimError' as const
  constructor({ account, claimed }: { account: string; claimed: bigint }) {
    super(`${account} has nothing to claim: the ${kbt(claimed)} it earned in the settled epochs are already paid.`)
  }
}

const REFUSALS = {
  NothingToClaim: 'There is nothing to claim: the settled rewards are already paid.',
  WrongProof: "The meta node's reward proof does not match the chain's latest reward tree; try again in a moment.",
}

/** The operator key of the node whose data directory is `dataDir` (never creates one). */
async function operatorOf(dataDir: string): Promise<PrivateKeyAccount> {
  if (!existsSync(join(dataDir, 'operator.key'))) throw new NoOperatorKeyError({ dataDir })
  return loadOperatorKey(dataDir)
}

/** `konbini epoch`: the open epoch and the last report settled on chain. */
export async function epochCommand(flags: GlobalFlags): Promise<void> {
  return inOneSentence(async () => {
    const { meta } = await openMeta(flags)
    const { epoch, endsAt, lastReport } = await meta.get('epoch')
    const last = lastReport && {
      epoch: lastReport.epoch,
      root: lastReport.rewardRoot,
      archiveCid: lastReport.archiveCid,
      txHash: lastReport.txHash,
      gasUsed: String(lastReport.gasUsed),
    }
    print(flags.json, { epoch, endsAt, lastReport: last }, () =>
      [
        `Epoch ${epoch} is open until ${new Date(endsAt * 1000).toISOString()}.`,
        last
          ? `The last report settled on chain is epoch ${last.epoch} (reward root ${last.root}, archive ${last.archiveCid}, tx ${last.txHash}).`
          : 'No epoch has been settled on chain yet.',
      ].join(' '),
    )
  })
}

/**
 * `konbini rewards [address] [--data DIR]`: what an account (the address, else the operator of
 * the node in DIR, else the caller) earned in the settled epochs, has claimed, and can claim.
 */
export async function rewardsCommand(flags: GlobalFlags, args: { address?: string | undefined; dataDir?: string | undefined }): Promise<void> {
  return inOneSentence(async () => {
    if (args.address !== undefined && !isAddress(args.address, { strict: false })) throw new InvalidAddressError({ value: args.address })
    const { meta, account: caller } = await openMeta(flags)
    const operator = args.dataDir === undefined ? undefined : await operatorOf(args.dataDir)
    const account: Address = args.address !== undefined ? getAddress(args.address) : (operator ?? caller).address
    const c = await openChain(flags, operator ?? caller)
    const [rewards, claimed] = await Promise.all([
      meta.get('rewards', { account }),
      c.pub.readContract({ address: c.contracts.settlement, abi: settlementAbi, functionName: 'claimed', args: [account] }),
    ])
    const cumulative = BigInt(rewards.cumulative)
    const claimable = cumulative > claimed ? cumulative - claimed : 0n
    print(
      flags.json,
      { account, cumulative: cumulative.toString(), claimed: claimed.toString(), claimable: claimable.toString() },
      () =>
        `${account} earned ${kbt(cumulative)} in the settled epochs (to epoch ${rewards.epoch}), has claimed ${kbt(claimed)} and can claim ${kbt(claimable)}` +
        (claimable > 0n ? ' (konbini claim).' : '.'),
    )
  })
}

/**
 * `konbini claim [--data DIR]`: pays the caller (or the operator of the node in DIR, who sends the
 * transaction) what it earned in the settled epochs and has not claimed yet.
 */
export async function claimCommand(flags: GlobalFlags, dataDir: string | undefined): Promise<void> {
  return inOneSentence(async () => {
    const { meta } = await openMeta(flags)
    const c = await openChain(flags, dataDir === undefined ? undefined : await operatorOf(dataDir))
    const account = c.account.address
    const settlement = { address: c.contracts.settlement, abi: settlementAbi } as const
    const txHash = await retryOnNewTree('WrongProof', async () => {
      const rewards = await proofOfChainTree(c, () => meta.get('rewards', { account }))
      const cumulative = BigInt(rewards.cumulative)
      const claimed = await c.pub.readContract({ ...settlement, functionName: 'claimed', args: [account] })
      if (cumulative <= claimed) throw new NothingToClaimError({ account, claimed })
      const proof = rewards.proof as `0x${string}`[]
      return refusedAs(c.wallet.writeContract({ ...settlement, functionName: 'claim', args: [account, cumulative, proof] }), REFUSALS)
    })
    const { gasUsed } = await c.mined(txHash)
    const { logs } = await c.pub.getTransactionReceipt({ hash: txHash })
    const amount = parseEventLogs({ abi: settlementAbi, logs, eventName: 'Claimed' }).reduce((sum, log) => sum + log.args.amount, 0n)
    print(
      flags.json,
      { txHash, amount: amount.toString(), gasUsed: gasUsed.toString() },
      () => `Claimed ${kbt(amount)} of rewards for ${account} (tx ${txHash}).`,
    )
  })
}
