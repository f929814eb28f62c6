import { type OwnerRequest, ownerRequestTypedData, type SignedOwnerRequest } from '@konbini/protocol'
import { privateKeyToAccount } from 'viem/accounts'

export interface SignOwnerRequestInit {
  key: `0x${string}`
  action: OwnerRequest['action']
  target?: string
  chainId?: number
  /** Seconds the signature stays valid; short, since it is used at once. */
  ttlSeconds?: number
  nowSeconds?: number
}

/**
 * Builds and EIP-712-signs an owner request (`ls`, `stat`, `rm`) with a fresh random nonce.
 * @example const body = await signOwnerRequest({ key, action: 'ls' })
 */
export async function signOwnerRequest(init: SignOwnerRequestInit): Promise<SignedOwnerRequest> {
  const account = privateKeyToAccount(init.key)
  const now = init.nowSeconds ?? Math.floor(Date.now() / 1000)
  const request: OwnerRequest = {
    owner: account.address,
    action: init.action,
    target: init.target ?? '',
    nonce: Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join(''),
    expiresAt: now + (init.ttlSeconds ?? 60),
  }
  const signature = await account.signTypedData(ownerRequestTypedData(request, init.chainId))
  return { request, signature }
}
