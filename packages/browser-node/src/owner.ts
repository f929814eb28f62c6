import { ownerRequestTypedData, type SignedOwnerRequest } from '@konbini/protocol'
import type { LocalAccount } from 'viem/accounts'
import { randomHex } from './encoding.ts'

/** Signs an owner request (`ls`, `stat`, `rm`) with a fresh nonce, valid for two minutes. */
export async function signOwnerRequest(account: LocalAccount, action: 'ls' | 'stat' | 'rm', target: string, chainId: number): Promise<SignedOwnerRequest> {
  const nonce = randomHex(16)
  const request = { owner: account.address, action, target, nonce, expiresAt: Math.floor(Date.now() / 1000) + 120 }
  const signature = await account.signTypedData(ownerRequestTypedData(request, chainId))
  return { request, signature }
}
