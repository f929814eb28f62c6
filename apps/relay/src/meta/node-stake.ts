import { NodeNotStakedError } from '@konbini/protocol'
import type { NodeStake, SettlementChain } from '../pot/settlement-chain.ts'

/** How long a node's stake read from the chain is taken as current (ms). */
const STAKE_FRESH_MS = 60_000

/**
 * Whether a full node has earned its place: registered in the chain's Registry under the
 * operator that signs its heartbeats, with at least `minStake` and no unstake requested. Reads
 * are kept for a minute per node (a heartbeat every few seconds must not cost a chain read).
 */
export class NodeStakes {
  private readonly chain: SettlementChain
  private readonly minStake: bigint | undefined
  private readonly seen = new Map<string, { stake: Promise<NodeStake>; at: number }>()

  /** `minStake` undefined: the Registry's own minimum (any registered node). */
  constructor(chain: SettlementChain, minStake: bigint | undefined) {
    this.chain = chain
    this.minStake = minStake
  }

  /** Throws NodeNotStakedError unless `peerId` is staked by `operator`. */
  async assertStaked(peerId: string, operator: string): Promise<void> {
    const { stake, operator: owner, unbonding } = await this.read(peerId)
    const minimum = this.minStake ?? (await this.chain.minNodeStake())
    const refuse = (reason: string) => {
      // only a staked node's read is kept: one that registers now is taken at its next heartbeat
      this.seen.delete(peerId)
      return new NodeNotStakedError({ peerId, reason })
    }
    if (owner.toLowerCase() !== operator.toLowerCase()) throw refuse(owner === ZERO ? 'it is not registered on chain' : 'another operator registered it')
    if (unbonding) throw refuse('its operator asked to unstake')
    if (stake < minimum) throw refuse(`its stake ${stake} is below ${minimum}`)
  }

  private read(peerId: string): Promise<NodeStake> {
    const now = performance.now()
    const cached = this.seen.get(peerId)
    if (cached !== undefined && now - cached.at < STAKE_FRESH_MS) return cached.stake
    const stake = this.chain.nodeStake(peerId)
    this.seen.set(peerId, { stake, at: now })
    stake.catch(() => this.seen.delete(peerId))
    if (this.seen.size > 10_000) this.seen.clear()
    return stake
  }
}

const ZERO = '0x0000000000000000000000000000000000000000'
