import { ownerRequestTypedData, type SignedOwnerRequest } from '@konbini/protocol'
import type { LocalAccount } from 'viem/accounts'

/** Signs an owner request (`ls`, `stat`, `rm`) with a fresh nonce, valid for two minutes. */
export async function signOwnerRequest(account: LocalAccount, action: 'ls' | 'stat' | 'rm', target: string, chainId: number): Promise<SignedOwnerRequest> {
  const nonce = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
  const request = { owner: account.address, action, target, nonce, expiresAt: Math.floor(Date.now() / 1000) + 120 }
  const signature = await account.signTypedData(ownerRequestTypedData(request, chainId))
  return { request, signature }
}
