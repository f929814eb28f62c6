import { receiptTypedData, type SignedReceipt } from '@konbini/protocol'
import { hashTypedData } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { nativeSecp256k1, receiptDigest, receiptDomainSeparator, recoverReceiptSigners, recoverSigner } from './receipt-verifier.ts'

const consumer = privateKeyToAccount(generatePrivateKey())
const receipt = {
  ticket: `0x${'cd'.repeat(32)}`,
  consumer: consumer.address,
  provider: '12D3KooWCeUrkyov6SuzyGHANXUD8QrdmxbUsqRHtQWVVSnLMGKu',
  epoch: 12,
  bytes: 123_456_789,
}

describe('receipt verifier (native keccak and secp256k1)', () => {
  test("default: the digest equals viem's EIP-712 hash and the signer is recovered", async () => {
    expect(nativeSecp256k1).toBe(true)
    for (const chainId of [31337, 1]) {
      expect(`0x${receiptDigest(receipt, receiptDomainSeparator(chainId)).toString('hex')}`).toBe(hashTypedData(receiptTypedData(receipt, chainId)))
    }
    const signed: SignedReceipt = { receipt, signature: await consumer.signTypedData(receiptTypedData(receipt, 31337)) }
    expect(recoverReceiptSigners([signed], 31337)).toEqual([consumer.address.toLowerCase()])
  })

  test('error: a forged, truncated or malleable signature recovers no consumer', async () => {
    const signature = await consumer.signTypedData(receiptTypedData(receipt, 31337))
    const [forged] = recoverReceiptSigners([{ receipt: { ...receipt, bytes: receipt.bytes + 1 }, signature }], 31337)
    expect(forged).not.toBe(consumer.address.toLowerCase())
    const digest = receiptDigest(receipt, receiptDomainSeparator(31337))
    expect(recoverSigner(digest, signature.slice(0, -2))).toBeUndefined()
    // s → n − s with v flipped is the same point: valid to ecrecover, refused here (EIP-2)
    const n = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n
    const s = BigInt(`0x${signature.slice(66, 130)}`)
    const v = Number.parseInt(signature.slice(130), 16)
    const twin = `0x${signature.slice(2, 66)}${(n - s).toString(16).padStart(64, '0')}${(v === 27 ? 28 : 27).toString(16)}`
    expect(recoverSigner(digest, twin)).toBeUndefined()
  })
})
