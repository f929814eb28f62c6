import { DEPLOY_DEFAULTS, registryAbi } from '@konbini/contracts'
import { formatUnits } from 'viem'
import { registerNode, registryNodeId } from '../chain/node-registration.ts'
import { loadOperatorKey, loadPeerKey } from '../keys.ts'
import { parseAmount } from './chain-commands.ts'
import { ChainRefusedError, openChain, refusedAs } from './chain-context.ts'
import type { GlobalFlags } from './context.ts'
import { print } from './output.ts'

const REFUSALS = {
  NodeExists: 'This node is already registered.',
  StakeTooLow: `The stake is below the registry's minimum (${formatUnits(DEPLOY_DEFAULTS.minNodeStake, 18)} KBT on the devnet).`,
  NotOperator: "This node is not registered under this data directory's operator key.",
  AlreadyUnbonding: 'This node is already unbonding.',
  VotesActive: 'The operator has votes standing: withdraw them (unvote) before unstaking.',
  ERC20InsufficientBalance: 'The operator does not hold enough KBT for this stake: send it some first.',
}

/** `konbini register --data DIR [--stake N]`: stakes and registers the node whose keys are in DIR, its operator key paying. */
export async function registerCommand(flags: GlobalFlags, dataDir: string, stakeValue: string | undefined): Promise<void> {
  const stake = stakeValue === undefined ? DEPLOY_DEFAULTS.minNodeStake : parseAmount(stakeValue)
  const operator = await loadOperatorKey(dataDir)
  const peerKey = await loadPeerKey(dataDir)
  const c = await openChain(flags, operator)
  const { id, txHash, gasUsed } = await refusedAs(registerNode(c, peerKey, stake), REFUSALS)
  print(
    flags.json,
    { node: id, operator: operator.address, stake: stake.toString(), txHash, gasUsed: gasUsed.toString() },
    () => `Registered node ${id} under operator ${operator.address} with ${formatUnits(stake, 18)} KBT of stake (tx ${txHash}).`,
  )
}

/**
 * `konbini unstake --data DIR`: starts unbonding the node's stake, or, once the unbonding delay
 * has passed, pays it back to the operator.
 */
export async function unstakeCommand(flags: GlobalFlags, dataDir: string): Promise<void> {
  const operator = await loadOperatorKey(dataDir)
  const id = registryNodeId(await loadPeerKey(dataDir))
  const c = await openChain(flags, operator)
  const [owner, stake, unbondingEnds] = await c.pub.readContract({ address: c.contracts.registry, abi: registryAbi, functionName: 'nodes', args: [id] })
  if (owner.toLowerCase() !== operator.address.toLowerCase()) throw new ChainRefusedError({ error: 'NotOperator', sentence: REFUSALS.NotOperator })
  if (unbondingEnds === 0n) {
    const txHash = await refusedAs(
      c.wallet.writeContract({ address: c.contracts.registry, abi: registryAbi, functionName: 'requestUnstake', args: [id] }),
      REFUSALS,
    )
    const { gasUsed } = await c.mined(txHash)
    const [, , ends] = await c.pub.readContract({ address: c.contracts.registry, abi: registryAbi, functionName: 'nodes', args: [id] })
    print(
      flags.json,
      { node: id, state: 'unbonding', withdrawableAt: Number(ends), txHash, gasUsed: gasUsed.toString() },
      () =>
        `Node ${id} is unbonding: its ${formatUnits(stake, 18)} KBT can be withdrawn after ${new Date(Number(ends) * 1000).toISOString()} (run konbini unstake again then).`,
    )
    return
  }
  const block = await c.pub.getBlock()
  if (block.timestamp < unbondingEnds)
    throw new ChainRefusedError({
      error: 'StillBonded',
      sentence: `Node ${id} is unbonding until ${new Date(Number(unbondingEnds) * 1000).toISOString()}; its stake cannot be withdrawn before then.`,
    })
  const txHash = await refusedAs(
    c.wallet.writeContract({ address: c.contracts.registry, abi: registryAbi, functionName: 'withdrawStake', args: [id] }),
    REFUSALS,
  )
  const { gasUsed } = await c.mined(txHash)
  print(
    flags.json,
    { node: id, state: 'withdrawn', amount: stake.toString(), txHash, gasUsed: gasUsed.toString() },
    () => `Paid ${formatUnits(stake, 18)} KBT of stake back to ${operator.address} (tx ${txHash}).`,
  )
}
