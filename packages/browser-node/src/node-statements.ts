import {
  DEVNET_CHAIN_ID,
  type Heartbeat,
  nodeBindingMessage,
  nodeStatementTypedData,
  type SignedHeartbeat,
  type SignedNodeLeave,
  canonicalDigest,
} from '@konbini/protocol'
import type { LocalAccount } from 'viem/accounts'
import { base64url } from './encoding.ts'

type Hex = `0x${string}`

/** The operator key: a viem local account (a private key, or a session key in a tab). */
export type OperatorSigner = Pick<LocalAccount, 'address' | 'signTypedData'>

/** The node's libp2p private key (Ed25519): only `sign` is used. */
export interface PeerKeySigner {
  sign(data: Uint8Array): Uint8Array | Promise<Uint8Array>
}

/** A heartbeat before signing: `operator` is the signer's address and `issuedAt` now unless given; `binding` is made from `privateKey` unless given. */
export type HeartbeatBody = Omit<Heartbeat, 'operator' | 'issuedAt' | 'seq' | 'binding'> & Partial<Pick<Heartbeat, 'operator' | 'issuedAt' | 'seq' | 'binding'>>

export interface SignHeartbeatInit {
  account: OperatorSigner
  /** Signs the peer-id binding; not needed when `body.binding` is given (it never changes for one operator). */
  privateKey?: PeerKeySigner
  body: HeartbeatBody
  chainId?: number
}

/**
 * Signs a node statement (heartbeat, storage report, leave): the operator's EIP-712
 * `NodeStatement(kind, peerId, keccak256(canonical JSON of body))`. Full nodes and light peers
 * sign the same way; works in browsers and Node.
 */
export function signNodeStatement({
  account,
  kind,
  peerId,
  body,
  chainId = DEVNET_CHAIN_ID,
}: {
  account: OperatorSigner
  kind: string
  peerId: string
  body: unknown
  chainId?: number
}): Promise<Hex> {
  const digest = canonicalDigest(body)
  return account.signTypedData(nodeStatementTypedData({ kind, peerId, digest }, chainId))
}

/** The peer key's signature (base64url) binding its peer id to `operator`: the heartbeat's `binding`. */
export async function nodeBinding(privateKey: PeerKeySigner, operator: string): Promise<string> {
  return base64url(await privateKey.sign(nodeBindingMessage(operator)))
}

/**
 * Signs a heartbeat as the meta node checks it: operator = `account.address`, the binding made by
 * the peer key, the statement signed by the operator. Post the result to `/v1/nodes/heartbeat`.
 *
 * @example
 * const signed = await signHeartbeat({ account, privateKey, body: { peerId, kind: 'light', multiaddrs, region, capacityBytes,
 *   usedBytes, egressCapBps, activeTransfers: 0, trustedMetas, holds, donor } })
 * const { cache, denylist } = await meta.post('heartbeat', signed)
 */
export async function signHeartbeat({ account, privateKey, body, chainId }: SignHeartbeatInit): Promise<SignedHeartbeat> {
  const binding = body.binding ?? (privateKey ? await nodeBinding(privateKey, account.address) : undefined)
  if (binding === undefined) throw new TypeError('signHeartbeat needs the peer key (privateKey) or a binding in the body.')
  const full: Heartbeat = { ...body, operator: account.address, issuedAt: body.issuedAt ?? nowSeconds(), seq: body.seq ?? nextSeq(), binding }
  return {
    body: full,
    signature: await signNodeStatement({ account, kind: 'heartbeat', peerId: full.peerId, body: full, ...(chainId !== undefined && { chainId }) }),
  }
}

/** Signs a light peer's leave (donation stopped): post it to `/v1/nodes/leave`. */
export async function signLeave({
  account,
  peerId,
  chainId,
  issuedAt = nowSeconds(),
}: {
  account: OperatorSigner
  peerId: string
  chainId?: number
  issuedAt?: number
}): Promise<SignedNodeLeave> {
  const body = { peerId, operator: account.address, issuedAt }
  return { body, signature: await signNodeStatement({ account, kind: 'leave', peerId, body, ...(chainId !== undefined && { chainId }) }) }
}

let lastSeq = 0
/** Heartbeat numbers: strictly increasing in a process, and past the last run's (they start at the clock in ms). */
function nextSeq(): number {
  lastSeq = Math.max(lastSeq + 1, Date.now())
  return lastSeq
}

function nowSeconds(): number {
  return Math.floor(Date.now() / 1000)
}
