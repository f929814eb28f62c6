import { describe, expect, test } from 'vitest'
import type { CreditState } from '../pot/settlement-chain.ts'
import { FreshCredit } from './fresh-credit.ts'

const state = (deposited: bigint, withdrawn = 0n): CreditState => ({ deposited, withdrawn, pending: 0n, cap: 0n })

describe('FreshCredit', () => {
  test('behavior: credit with something left is read from the chain once per freshMs per payer, concurrent asks included', async () => {
    let now = 0
    const reads: string[] = []
    const credit = new FreshCredit(
      async (account) => {
        reads.push(account)
        return state(10n)
      },
      5000,
      () => now,
    )
    await Promise.all([credit.get('0xAA'), credit.get('0xaa')])
    now = 5000
    expect((await credit.get('0xaa')).deposited).toBe(10n)
    expect(reads).toEqual(['0xAA'])
    await credit.get('0xbb')
    now = 5001
    await credit.get('0xaa')
    expect(reads).toEqual(['0xAA', '0xbb', '0xaa'])
  })

  test('behavior: a payer with nothing left, or a failed read, is read again every time (a deposit counts at once)', async () => {
    let balance = 0n
    let fail = true
    let reads = 0
    const credit = new FreshCredit(async () => {
      reads++
      if (fail) throw new Error('rpc down')
      return state(balance, 0n)
    })
    await expect(credit.get('0xaa')).rejects.toThrow('rpc down')
    fail = false
    expect((await credit.get('0xaa')).deposited).toBe(0n)
    balance = 7n
    expect((await credit.get('0xaa')).deposited).toBe(7n)
    expect(reads).toBe(3)
  })
})
