import { randomBytes } from 'node:crypto'
import { receiptTypedData, sessionGrantTypedData } from '@konbini/protocol'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { nativeReceiptAccount, withNativeReceipts } from './native-receipt-signing.ts'

describe('native receipt signing', () => {
  test("a receipt's native signature is byte for byte viem's (RFC 6979, low s)", async () => {
    for (let i = 0; i < 20; i++) {
      const key = generatePrivateKey()
      const viem = privateKeyToAccount(key)
      const native = nativeReceiptAccount(key)
      expect(native.address).toBe(viem.address)
      const receipt = {
        ticket: `0x${randomBytes(32).toString('hex')}`,
        consumer: viem.address,
        provider: `12D3KooW${randomBytes(16).toString('hex')}`,
        epoch: randomBytes(4).readUInt32BE(),
        bytes: randomBytes(6).readUIntBE(0, 6),
      }
      for (const chainId of [31337, 8453]) {
        const typedData = receiptTypedData(receipt, chainId)
        expect(await native.signTypedData(typedData)).toBe(await viem.signTypedData(typedData))
      }
    }
  })

  test("a receipt never reaches the account's own (JavaScript) signer", async () => {
    const key = generatePrivateKey()
    const viem = privateKeyToAccount(key)
    const refusing = withNativeReceipts({ ...viem, signTypedData: (() => Promise.reject(new Error('signed in JavaScript'))) as typeof viem.signTypedData }, key)
    const typedData = receiptTypedData({ ticket: `0x${'ab'.repeat(32)}`, consumer: viem.address, provider: 'p', epoch: 1, bytes: 2 })
    expect(await refusing.signTypedData(typedData)).toBe(await viem.signTypedData(typedData))
    await expect(refusing.signTypedData(sessionGrantTypedData({ wallet: viem.address, sessionKey: viem.address, expiresAt: 2_000_000_000 }))).rejects.toThrow(
      'signed in JavaScript',
    )
  })

  test('other typed data, or a receipt under a foreign domain, is signed by viem unchanged', async () => {
    const key = generatePrivateKey()
    const viem = privateKeyToAccount(key)
    const native = nativeReceiptAccount(key)
    const grant = sessionGrantTypedData({ wallet: viem.address, sessionKey: viem.address, expiresAt: 2_000_000_000 })
    expect(await native.signTypedData(grant)).toBe(await viem.signTypedData(grant))
    const receipt = receiptTypedData({ ticket: `0x${'ab'.repeat(32)}`, consumer: viem.address, provider: 'p', epoch: 1, bytes: 2 })
    const foreign = { ...receipt, domain: { ...receipt.domain, verifyingContract: viem.address } }
    expect(await native.signTypedData(foreign)).toBe(await viem.signTypedData(foreign))
    const otherFields = {
      ...receipt,
      types: { Receipt: [...receipt.types.Receipt, { name: 'extra', type: 'uint8' }] },
      message: { ...receipt.message, extra: 1 },
    }
    expect(await native.signTypedData(otherFields as never)).toBe(await viem.signTypedData(otherFields as never))
  })
})
