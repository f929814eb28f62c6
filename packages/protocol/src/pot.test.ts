import { recoverTypedDataAddress } from 'viem'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { describe, expect, test } from 'vitest'
import { type Receipt, receipt, receiptTypedData, sessionGrantTypedData } from './pot.ts'

const consumer = privateKeyToAccount(generatePrivateKey())
const r: Receipt = {
  ticket: `0x${'ab'.repeat(32)}`,
  consumer: consumer.address,
  provider: '12D3KooWCeUrkyov6SuzyGHANXUD8QrdmxbUsqRHtQWVVSnLMGKu',
  epoch: 7,
  bytes: 5 * 1024 * 1024,
}

describe('Proof of Traffic typed data', () => {
  test('default: a receipt signed by the consumer recovers to the consumer', async () => {
    const signature = await consumer.signTypedData(receiptTypedData(r))
    expect(await recoverTypedDataAddress({ ...receiptTypedData(r), signature })).toBe(consumer.address)
  })

  test('error: a receipt with more bytes, another provider or another epoch than signed recovers to someone else', async () => {
    const signature = await consumer.signTypedData(receiptTypedData(r))
    for (const forged of [
      { ...r, bytes: r.bytes + 1 },
      { ...r, provider: `${r.provider.slice(0, -1)}x` },
      { ...r, epoch: 8 },
    ]) {
      expect(await recoverTypedDataAddress({ ...receiptTypedData(forged), signature })).not.toBe(consumer.address)
    }
    // and on another chain
    expect(await recoverTypedDataAddress({ ...receiptTypedData(r, 1), signature })).not.toBe(consumer.address)
  })

  test('error: the receipt schema refuses negative or fractional bytes and a malformed ticket', () => {
    expect(receipt.safeParse({ ...r, bytes: -1 }).success).toBe(false)
    expect(receipt.safeParse({ ...r, bytes: 1.5 }).success).toBe(false)
    expect(receipt.safeParse({ ...r, ticket: '0x12' }).success).toBe(false)
  })

  test('default: a session grant signed by a wallet recovers to it', async () => {
    const wallet = privateKeyToAccount(generatePrivateKey())
    const grant = { wallet: wallet.address, sessionKey: consumer.address, expiresAt: 2_000_000_000 }
    const signature = await wallet.signTypedData(sessionGrantTypedData(grant))
    expect(await recoverTypedDataAddress({ ...sessionGrantTypedData(grant), signature })).toBe(wallet.address)
  })
})
