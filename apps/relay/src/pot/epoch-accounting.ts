import { CumulativeTree, EMPTY_TREE_ROOT } from '@konbini/contracts'
import { bytesFor, type EpochArchive, type PaidTicketView, paidTicketView, rewardFor, type SignedReceipt, spendFor } from '@konbini/protocol'
import type { Address, Hex } from 'viem'

/** One receipt's bytes as counted: within its ticket and its payer's credit (and the owner's cap). */
export interface CountedTraffic {
  ticketId: string
  provider: string
  payer: string
  bytes: bigint
}

/** What an epoch's verified receipts come to: this epoch's amounts, the new cumulative trees and the report's totals. */
export interface EpochAccounting {
  counted: CountedTraffic[]
  /** Account → earned this epoch. */
  earned: Map<string, bigint>
  /** Payer → spent this epoch. */
  spent: Map<string, bigint>
  /** Account → earned in all epochs so far. */
  rewards: Map<string, bigint>
  /** Payer (every depositor) → spent in all epochs so far. */
  spends: Map<string, bigint>
  rewardRoot: Hex
  spendRoot: Hex
  totalRewards: bigint
  totalSpent: bigint
}

/**
 * Counts an epoch's valid receipts (`grants`: session key → wallet, verified) (in archive order) against each payer's credit, then computes
 * every account's reward (per account, after summing its nodes' bytes: splitting traffic over
 * sybil nodes earns nothing more) and the cumulative reward and spend trees. Pure: a co-signer
 * running it over the same archive gets the same roots.
 */
export function accountEpoch(archive: EpochArchive, valid: readonly SignedReceipt[], grants: ReadonlyMap<string, string> = new Map()): EpochAccounting {
  const price = BigInt(archive.price)
  const tickets = new Map<string, PaidTicketView>([...archive.tickets, ...archive.uploads].map((t) => [t.ticket.id.toLowerCase(), paidTicketView(t)]))
  // a node whose operator key a wallet granted earns for the wallet
  const operators = new Map(archive.operators.map((o) => [o.peerId, grants.get(o.operator.toLowerCase()) ?? o.operator.toLowerCase()]))
  const credit = new Map(
    archive.credit.map((c) => [c.payer.toLowerCase(), { left: bytesFor(BigInt(c.available), price), capLeft: bytesFor(BigInt(c.cap), price) }]),
  )
  const counted: CountedTraffic[] = []
  const served = new Map<string, bigint>()
  const paid = new Map<string, bigint>()
  for (const { receipt } of valid) {
    const ticket = tickets.get(receipt.ticket.toLowerCase())
    const account = operators.get(receipt.provider)
    if (ticket === undefined || account === undefined) continue
    const payer = ticket.payer.toLowerCase()
    const budget = credit.get(payer)
    if (budget === undefined) continue
    // an owner pays for other people's downloads of its files only up to its cap per epoch (a wallet's own session keys are not others)
    const consumer = ticket.consumer.toLowerCase()
    const forOthers = consumer !== payer && grants.get(consumer) !== payer
    let bytes = BigInt(receipt.bytes)
    if (bytes > budget.left) bytes = budget.left
    if (forOthers && bytes > budget.capLeft) bytes = budget.capLeft
    if (bytes <= 0n) continue
    budget.left -= bytes
    if (forOthers) budget.capLeft -= bytes
    counted.push({ ticketId: ticket.id, provider: receipt.provider, payer, bytes })
    served.set(account, (served.get(account) ?? 0n) + bytes)
    paid.set(payer, (paid.get(payer) ?? 0n) + bytes)
  }
  const total = [...served.values()].reduce((a, b) => a + b, 0n)
  const emission = BigInt(archive.emission)
  const earned = new Map([...served].map(([account, bytes]) => [account, rewardFor(bytes, total, emission, price)]))
  const spent = new Map([...paid].map(([payer, bytes]) => [payer, spendFor(bytes, price)]))
  const rewards = addInto(archive.previous.rewards, earned, [])
  const spends = addInto(archive.previous.spends, spent, archive.depositors)
  return {
    counted,
    earned,
    spent,
    rewards,
    spends,
    rewardRoot: rootOf(rewards),
    spendRoot: rootOf(spends),
    totalRewards: sum(rewards),
    totalSpent: sum(spends),
  }
}

function addInto(previous: ReadonlyArray<readonly [string, string]>, delta: Map<string, bigint>, alsoListed: readonly string[]): Map<string, bigint> {
  const out = new Map<string, bigint>(previous.map(([account, amount]) => [account.toLowerCase(), BigInt(amount)]))
  for (const account of alsoListed) if (!out.has(account.toLowerCase())) out.set(account.toLowerCase(), 0n)
  for (const [account, amount] of delta) out.set(account, (out.get(account) ?? 0n) + amount)
  return out
}

function sum(amounts: Map<string, bigint>): bigint {
  return [...amounts.values()].reduce((a, b) => a + b, 0n)
}

/** The tree's root as the contracts check it; the contracts' empty root when no account has a leaf. */
export function rootOf(amounts: Map<string, bigint>): Hex {
  if (amounts.size === 0) return EMPTY_TREE_ROOT
  return new CumulativeTree([...amounts].map(([account, amount]) => ({ account: account as Address, amount }))).root
}

/** The tree of `amounts`, for proofs; undefined when empty. */
export function treeOf(amounts: ReadonlyArray<readonly [string, string]>): CumulativeTree | undefined {
  if (amounts.length === 0) return undefined
  return new CumulativeTree(amounts.map(([account, amount]) => ({ account: account as Address, amount: BigInt(amount) })))
}
