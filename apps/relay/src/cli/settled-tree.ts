import { settlementAbi } from '@konbini/contracts'
import { BaseError } from '@konbini/protocol'
import { type ChainContext, ChainRefusedError } from './chain-context.ts'

/** How long a command waits for the meta node to record the report the chain has just settled. */
const AGREE_TIMEOUT_MS = 20_000
const AGREE_POLL_MS = 500

export class TreeOutOfDateError extends BaseError {
  override name = 'TreeOutOfDateError' as const
  constructor({ meta, chain }: { meta: number; chain: number }) {
    super(`The meta node's settled tree is of epoch ${meta} but the chain has settled epoch ${chain}; try again in a moment.`)
  }
}

/** The last epoch whose report the settlement contract holds (0: none yet). */
export async function lastSettledEpoch(c: ChainContext): Promise<number> {
  return Number(await c.pub.readContract({ address: c.contracts.settlement, abi: settlementAbi, functionName: 'lastEpoch' }))
}

/**
 * Fetches a Merkle proof from the meta node (`fetchProof`) until it belongs to the tree the chain
 * holds now (its `epoch` is the settlement's `lastEpoch`): only the latest roots are on chain, so a
 * proof of an older tree would revert. Waits a little for a meta node that has not recorded a
 * report the chain just settled, then throws {@link TreeOutOfDateError}.
 */
export async function proofOfChainTree<T extends { epoch: number }>(c: ChainContext, fetchProof: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + AGREE_TIMEOUT_MS
  for (;;) {
    const proof = await fetchProof()
    const chainEpoch = await lastSettledEpoch(c)
    if (proof.epoch === chainEpoch) return proof
    if (Date.now() >= deadline) throw new TreeOutOfDateError({ meta: proof.epoch, chain: chainEpoch })
    await new Promise((resolve) => setTimeout(resolve, AGREE_POLL_MS))
  }
}

/**
 * Runs `attempt` (fetch a proof, send the transaction) and once more if the chain refused the
 * proof as `staleProofError` (a new report settled between the fetch and the transaction).
 */
export async function retryOnNewTree<T>(staleProofError: string, attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt()
  } catch (err) {
    if (!(err instanceof ChainRefusedError) || err.details !== staleProofError) throw err
    return attempt()
  }
}
