import { nodeBindingMessage, nodeStatementTypedData, type OwnerRequest, ownerRequestTypedData, SignatureInvalidError, canonicalDigest } from '@konbini/protocol'
import { peerIdFromString } from '@libp2p/peer-id'
import { recoverTypedDataAddress } from 'viem'

type Hex = `0x${string}`

/** Recovers the operator address that signed a node statement (heartbeat, storage report). */
export async function recoverStatementSigner(kind: string, peerId: string, body: unknown, signature: string, chainId: number): Promise<string> {
  const digest = canonicalDigest(body)
  try {
    return await recoverTypedDataAddress({ ...nodeStatementTypedData({ kind, peerId, digest }, chainId), signature: signature as Hex })
  } catch {
    throw new SignatureInvalidError()
  }
}

/** Checks the peer key's signature binding a peer id to an operator address. */
export async function verifyNodeBinding(peerId: string, operator: string, binding: string): Promise<boolean> {
  try {
    const key = peerIdFromString(peerId).publicKey
    if (key === undefined) return false
    return await key.verify(nodeBindingMessage(operator), Buffer.from(binding, 'base64url'))
  } catch {
    return false
  }
}

/** Recovers who signed an unexpired owner request (the owner, or a key acting for it). */
export async function recoverOwnerRequestSigner(request: OwnerRequest, signature: string, chainId: number, now: number): Promise<string> {
  if (request.expiresAt < now || request.expiresAt > now + 3600) throw new SignatureInvalidError()
  try {
    return await recoverTypedDataAddress({ ...ownerRequestTypedData(request, chainId), signature: signature as Hex })
  } catch {
    throw new SignatureInvalidError()
  }
}

/** Recovers an owner request's signer and checks it is the named, unexpired owner. */
export async function verifyOwnerRequest(request: OwnerRequest, signature: string, chainId: number, now: number): Promise<string> {
  const signer = await recoverOwnerRequestSigner(request, signature, chainId, now)
  if (signer.toLowerCase() !== request.owner.toLowerCase()) throw new SignatureInvalidError()
  return signer
}
