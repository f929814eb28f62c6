import {
  type OwnerRequest,
  type PlacementRequest,
  ownerRequestTypedData,
  type SignedOwnerRequest,
  type SignedPlacement,
  canonicalDigest,
} from '@konbini/protocol'
import { randomHex } from './encoding.ts'

/** Anything that signs owner requests: a viem local account, a session key a wallet granted. */
export interface OwnerRequestSigner {
  address: string
  signTypedData(typedData: ReturnType<typeof ownerRequestTypedData>): Promise<`0x${string}`>
}

/**
 * Signs an owner request (`ls`, `stat`, `rm`; an admin's `deny`, `allow`) with a fresh nonce, valid
 * for two minutes: the one signer of the CLI, the relay's tests and the portal.
 */
export async function signOwnerRequest(
  account: OwnerRequestSigner,
  action: OwnerRequest['action'],
  target: string,
  chainId: number,
  /** The owner acted for: the signer itself, or a wallet that granted the signer (a session key). */
  owner: string = account.address,
): Promise<SignedOwnerRequest> {
  const nonce = randomHex(16)
  const request = { owner, action, target, nonce, expiresAt: Math.floor(Date.now() / 1000) + 120 }
  const signature = await account.signTypedData(ownerRequestTypedData(request, chainId))
  return { request, signature }
}

/** A placement signed for its owner (`POST /v1/uploads`): an owner request `place` whose target is keccak256 of the placement's canonical JSON. */
export async function signPlacement(account: OwnerRequestSigner, placement: PlacementRequest, chainId: number): Promise<SignedPlacement> {
  const target = canonicalDigest(placement)
  return { placement, auth: await signOwnerRequest(account, 'place', target, chainId, placement.owner) }
}
