import { type OwnerRequest, ownerRequestTypedData, type SignedOwnerRequest } from '@konbini/protocol'
import type { LocalAccount } from 'viem/accounts'
import { randomHex } from './encoding.ts'

/**
 * Signs an owner request (`ls`, `stat`, `rm`; an admin's `deny`, `allow`) with a fresh nonce, valid
 * for two minutes: the one signer of the CLI, the relay's tests and the portal.
 */
export async function signOwnerRequest(
  account: LocalAccount,
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
