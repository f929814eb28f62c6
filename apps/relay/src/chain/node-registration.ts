import { type ContractAddresses, konbiniTokenAbi, registryAbi } from '@konbini/contracts'
import { nodeBindingMessage } from '@konbini/protocol'
import type { PrivateKey } from '@libp2p/interface'
import { peerIdFromPrivateKey, peerIdFromString } from '@libp2p/peer-id'
import { type Address, type Chain, type Hex, keccak256, type PublicClient, toHex, type Transport, type WalletClient } from 'viem'
import type { PrivateKeyAccount } from 'viem/accounts'

/** What registering or unstaking needs: the operator's wallet on the chain and the contracts. */
export interface OperatorChain {
  pub: PublicClient<Transport, Chain>
  wallet: WalletClient<Transport, Chain, PrivateKeyAccount>
  contracts: Pick<ContractAddresses, 'token' | 'registry'>
  mined(hash: Hex): Promise<{ gasUsed: bigint }>
}

/** A node's key in the Registry: keccak256 of its peer id's multihash bytes. */
export function registryNodeId(peer: PrivateKey | string): Hex {
  const id = typeof peer === 'string' ? peerIdFromString(peer) : peerIdFromPrivateKey(peer)
  return keccak256(toHex(id.toMultihash().bytes))
}

/**
 * Registers the node of `peerKey` under the wallet's account as operator with `stake` (approve,
 * then `registerNode`), with the peer key's Ed25519 signature of the binding statement in the
 * event (meta nodes check it: the EVM cannot).
 */
export async function registerNode(c: OperatorChain, peerKey: PrivateKey, stake: bigint): Promise<{ id: Hex; txHash: Hex; gasUsed: bigint }> {
  const operator = c.wallet.account.address
  const approve = await c.mined(
    await c.wallet.writeContract({
      address: c.contracts.token as Address,
      abi: konbiniTokenAbi,
      functionName: 'approve',
      args: [c.contracts.registry as Address, stake],
    }),
  )
  const peerId = toHex(peerIdFromPrivateKey(peerKey).toMultihash().bytes)
  const binding = toHex(await peerKey.sign(nodeBindingMessage(operator)))
  const txHash = await c.wallet.writeContract({
    address: c.contracts.registry as Address,
    abi: registryAbi,
    functionName: 'registerNode',
    args: [peerId, stake, binding],
  })
  const { gasUsed } = await c.mined(txHash)
  return { id: registryNodeId(peerKey), txHash, gasUsed: approve.gasUsed + gasUsed }
}
