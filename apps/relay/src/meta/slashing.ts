import { BaseError, InvalidRequestError, parseWith, type SlashCosignRequest, cosignResponse, slashNonce, slashTypedData } from '@konbini/protocol'
import type { Logger } from 'pino'
import { concat, type Hex, recoverTypedDataAddress } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'
import { registryNodeId } from '../chain/node-registration.ts'
import type { SettlementChain } from '../pot/settlement-chain.ts'
import { auditHolder } from './audit.ts'
import type { MetaStore } from './db/meta-store.ts'
import type { PotStore } from './db/pot-store.ts'
import type { TicketIssuer } from './tickets.ts'

/** Share of a node's stake one slash burns, in basis points. */
export const DEFAULT_SLASH_BPS = 5000n

export interface SlasherInit {
  chain: SettlementChain
  account: PrivateKeyAccount
  issuer: TicketIssuer
  store: MetaStore
  pot: PotStore
  log: Logger
  /** Share of the node's stake to burn (basis points). */
  bps?: bigint
}

/** A co-signer found the node answering its challenge: it does not sign. */
export class SlashUnprovenError extends BaseError {
  override name = 'SlashUnprovenError'
  override readonly status = 409
  constructor({ peerId }: { peerId: string }) {
    super(`Node ${peerId} proved it stores the root to this meta node: it co-signs no slash.`)
  }
}

/**
 * Slashing by meta quorum: once a node's storage audits fail past AUDIT_FAILURE_LIMIT, the meta
 * node that saw it proposes to burn a share of its stake — its own EIP-712 `Slash` signature plus
 * those of other meta nodes, each of which audits the node for the same root itself and signs only
 * if the node fails — and sends `Registry.slash` when the quorum is in. One nonce per node
 * (`slashNonce`): a node is slashed once.
 */
export class Slasher {
  private readonly init: SlasherInit
  private readonly proposed = new Set<string>()

  constructor(init: SlasherInit) {
    this.init = init
  }

  /** Proposes (once per node and process) to slash a node that failed past the limit; never throws. */
  propose(peerId: string, root: string): void {
    if (this.proposed.has(peerId)) return
    this.proposed.add(peerId)
    this.slash(peerId, root).catch((err) => this.init.log.warn({ err, peerId }, 'slashing a node failed'))
  }

  private async slash(peerId: string, root: string): Promise<void> {
    const { chain, account, pot, log } = this.init
    const order = await this.order(peerId)
    if (order === undefined) return
    const own = { signer: account.address.toLowerCase(), signature: await account.signTypedData(slashTypedData(order, chain.chainId, chain.registry)) }
    const { quorum } = await chain.state()
    const signatures = [own]
    const body = JSON.stringify({ peerId, root, amount: order.amount.toString(), nonce: order.nonce.toString() } satisfies SlashCosignRequest)
    for (const peer of (await pot.metaPeers()).filter((p) => p.address !== own.signer)) {
      if (signatures.length >= quorum) break
      const answer = await fetch(new URL('/v1/slashes/cosign', peer.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(60_000),
      }).catch(() => undefined)
      if (!answer?.ok) continue
      const { signer, signature } = parseWith(cosignResponse, await answer.json())
      const recovered = await recoverTypedDataAddress({ ...slashTypedData(order, chain.chainId, chain.registry), signature: signature as Hex })
      if (recovered.toLowerCase() === signer.toLowerCase()) signatures.push({ signer: signer.toLowerCase(), signature: signature as Hex })
    }
    if (signatures.length < quorum) {
      log.warn({ peerId, signatures: signatures.length, quorum }, 'not enough meta nodes co-signed a slash')
      return
    }
    signatures.sort((a, b) => (a.signer < b.signer ? -1 : 1))
    const { txHash } = await chain.slash(order, concat(signatures.map((s) => s.signature)))
    log.warn({ peerId, amount: order.amount.toString(), txHash }, 'slashed a node that failed its storage audits')
  }

  /** The slash order for a node's current stake (undefined: nothing staked to slash). */
  private async order(peerId: string): Promise<{ node: Hex; amount: bigint; nonce: bigint } | undefined> {
    const stake = await this.init.chain.nodeStake(peerId)
    const amount = (stake.stake * (this.init.bps ?? DEFAULT_SLASH_BPS)) / 10_000n
    if (amount === 0n) return undefined
    return { node: registryNodeId(peerId), amount, nonce: slashNonce(peerId) }
  }

  /**
   * Co-signs another meta node's slash order only after auditing the node for the root itself:
   * the node must fail to produce a block (SlashUnprovenError otherwise), and the amount and
   * nonce must be what this meta node would have proposed.
   */
  async cosign(request: SlashCosignRequest): Promise<{ signer: string; signature: string }> {
    const { chain, account, issuer, store } = this.init
    const order = await this.order(request.peerId)
    if (order === undefined || BigInt(request.amount) > order.amount || BigInt(request.nonce) !== order.nonce)
      throw new InvalidRequestError({ reason: 'the slash order is not the one this meta node would sign' })
    const node = await store.getNode(request.peerId)
    if (node?.httpUrl === undefined) throw new InvalidRequestError({ reason: 'unknown node' })
    const outcome = await auditHolder(issuer, { peerId: node.peerId, httpUrl: node.httpUrl }, request.root)
    if (outcome.passed || !outcome.lost) throw new SlashUnprovenError({ peerId: request.peerId })
    const signed = { ...order, amount: BigInt(request.amount) }
    return { signer: account.address, signature: await account.signTypedData(slashTypedData(signed, chain.chainId, chain.registry)) }
  }
}
