import { creditAbi } from '@konbini/contracts'
import { BaseError } from '@konbini/protocol'
import { formatUnits, type Hex, parseEventLogs } from 'viem'
import { parseAmount } from './chain-commands.ts'
import { type ChainContext, openChain, refusedAs } from './chain-context.ts'
import { type GlobalFlags, openMeta } from './context.ts'
import { inOneSentence } from './chain-errors.ts'
import { print } from './output.ts'
import { lastSettledEpoch, proofOfChainTree, retryOnNewTree } from './settled-tree.ts'

const kbt = (wei: bigint) => `${formatUnits(wei, 18)} KBT`

export class BeyondUnspentError extends BaseError {
  override name = 'BeyondUnspentError' as const
  constructor({ amount, unspent }: { amount: bigint; unspent: bigint }) {
    super(`You asked to withdraw ${kbt(amount)} but only ${kbt(unspent)} of your traffic credit is unspent.`)
  }
}

export class NothingToWithdrawError extends BaseError {
  override name = 'NothingToWithdrawError' as const
  constructor() {
    super('You have no unspent traffic credit to withdraw.')
  }
}

export class WithdrawalNotReadyError extends BaseError {
  override name = 'WithdrawalNotReadyError' as const
  constructor({ amount, notBeforeEpoch, lastEpoch }: { amount: bigint; notBeforeEpoch: bigint; lastEpoch: number }) {
    super(
      `Your withdrawal of ${kbt(amount)} waits for epoch ${notBeforeEpoch} to be settled on chain (the last settled epoch is ${lastEpoch}); run konbini withdraw again then.`,
    )
  }
}

export class WithdrawalPendingError extends BaseError {
  override name = 'WithdrawalPendingError' as const
  constructor({ amount, notBeforeEpoch }: { amount: bigint; notBeforeEpoch: bigint }) {
    super(`A withdrawal of ${kbt(amount)} is already pending (after epoch ${notBeforeEpoch}): run konbini withdraw without an amount to complete it.`)
  }
}

const REFUSALS = {
  NothingRequested: 'No withdrawal is pending: run konbini withdraw [amount] to request one.',
  TooEarly: 'The withdrawal delay has not passed yet: run konbini withdraw again after a few more epochs.',
  WrongSpendProof: "The meta node's spend proof does not match the chain's latest spend tree; try again in a moment.",
  BeyondUnspent: 'The pending withdrawal is more than the credit left unspent by the settled epochs.',
}

/**
 * `konbini withdraw [amount]`: takes back traffic credit the caller did not spend, in two steps
 * (the contract enforces a delay): without a pending withdrawal, requests `amount` KBT (default:
 * all unspent credit); once the request's epoch is settled on chain, pays it with the meta node's
 * proof of what the caller spent.
 */
export async function withdrawCommand(flags: GlobalFlags, value: string | undefined): Promise<void> {
  return inOneSentence(async () => {
    const wanted = value === undefined ? undefined : parseAmount(value)
    const c = await openChain(flags)
    const [amount, notBeforeEpoch] = await c.pub.readContract({
      address: c.contracts.credit,
      abi: creditAbi,
      functionName: 'pendingWithdrawal',
      args: [c.account.address],
    })
    if (amount === 0n) return requestWithdrawal(flags, c, wanted)
    if (wanted !== undefined && wanted !== amount) throw new WithdrawalPendingError({ amount, notBeforeEpoch })
    const lastEpoch = await lastSettledEpoch(c)
    if (BigInt(lastEpoch) < notBeforeEpoch) throw new WithdrawalNotReadyError({ amount, notBeforeEpoch, lastEpoch })
    return payWithdrawal(flags, c)
  })
}

/** The caller's credit not spent: deposited − withdrawn − spent in settled epochs − spent since (not settled yet). */
async function unspentCredit(flags: GlobalFlags, c: ChainContext): Promise<bigint> {
  const { meta } = await openMeta(flags)
  const account = c.account.address
  const credit = { address: c.contracts.credit, abi: creditAbi, args: [account] } as const
  const [deposited, withdrawn, spend] = await Promise.all([
    c.pub.readContract({ ...credit, functionName: 'deposited' }),
    c.pub.readContract({ ...credit, functionName: 'withdrawn' }),
    meta.get('spent', { account }),
  ])
  const used = withdrawn + BigInt(spend.cumulativeSpent) + BigInt(spend.pending)
  return deposited > used ? deposited - used : 0n
}

async function requestWithdrawal(flags: GlobalFlags, c: ChainContext, wanted: bigint | undefined): Promise<void> {
  const unspent = await unspentCredit(flags, c)
  const amount = wanted ?? unspent
  if (amount === 0n) throw new NothingToWithdrawError()
  if (amount > unspent) throw new BeyondUnspentError({ amount, unspent })
  const txHash = await refusedAs(
    c.wallet.writeContract({ address: c.contracts.credit, abi: creditAbi, functionName: 'requestWithdrawal', args: [amount] }),
    REFUSALS,
  )
  await c.mined(txHash)
  const [requested] = await eventsOf(c, txHash, 'WithdrawalRequested')
  const notBeforeEpoch = Number(requested?.args.notBeforeEpoch ?? 0n)
  print(
    flags.json,
    { requested: amount.toString(), notBeforeEpoch, txHash },
    () =>
      `Requested to withdraw ${kbt(amount)} of traffic credit (tx ${txHash}); run konbini withdraw again once epoch ${notBeforeEpoch} is settled on chain (konbini epoch shows it).`,
  )
}

async function payWithdrawal(flags: GlobalFlags, c: ChainContext): Promise<void> {
  const { meta } = await openMeta(flags)
  const account = c.account.address
  const txHash = await retryOnNewTree('WrongSpendProof', async () => {
    const spend = await proofOfChainTree(c, () => meta.get('spent', { account }))
    const proof = spend.proof as Hex[]
    return refusedAs(
      c.wallet.writeContract({ address: c.contracts.credit, abi: creditAbi, functionName: 'withdraw', args: [BigInt(spend.cumulativeSpent), proof] }),
      REFUSALS,
    )
  })
  const { gasUsed } = await c.mined(txHash)
  const amount = (await eventsOf(c, txHash, 'Withdrawn')).reduce((sum, log) => sum + log.args.amount, 0n)
  print(
    flags.json,
    { txHash, amount: amount.toString(), gasUsed: gasUsed.toString() },
    () => `Withdrew ${kbt(amount)} of unspent traffic credit to ${account} (tx ${txHash}).`,
  )
}

/** The Credit contract's `eventName` events in a mined transaction. */
async function eventsOf<E extends 'WithdrawalRequested' | 'Withdrawn'>(c: ChainContext, hash: Hex, eventName: E) {
  const { logs } = await c.pub.getTransactionReceipt({ hash })
  return parseEventLogs({ abi: creditAbi, logs, eventName })
}
