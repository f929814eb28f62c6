import { describe, expect, test } from 'vitest'
import { claimableOf, epochRows, formatKbt } from './rewards.ts'

describe('formatKbt', () => {
  test('default: wei as KBT with every significant decimal', () => {
    expect(formatKbt(1_500_000_000_000_000_000n)).toBe('1.5 KBT')
    expect(formatKbt('1')).toBe('0.000000000000000001 KBT')
    expect(formatKbt(0n)).toBe('0 KBT')
  })
})

describe('claimableOf', () => {
  test('default: cumulative less claimed', () => {
    expect(claimableOf(10n, 3n)).toBe(7n)
  })
  test('behavior: never negative (a claim from a newer tree than the meta node has read)', () => {
    expect(claimableOf(3n, 10n)).toBe(0n)
  })
})

describe('epochRows', () => {
  test('behavior: epochs the claimed total covers are claimed, later ones claimable, then the pending row', () => {
    const rows = epochRows(
      {
        epochs: [
          { epoch: 5, earned: '30' },
          { epoch: 2, earned: '10' },
          { epoch: 3, earned: '20' },
        ],
        pending: '7',
      },
      30n,
    )
    expect(rows).toEqual([
      { epoch: 2, earned: 10n, status: 'claimed' },
      { epoch: 3, earned: 20n, status: 'claimed' },
      { epoch: 5, earned: 30n, status: 'claimable' },
      { epoch: undefined, earned: 7n, status: 'pending' },
    ])
  })
  test('behavior: nothing pending adds no row; nothing claimed leaves every epoch claimable', () => {
    expect(epochRows({ epochs: [{ epoch: 1, earned: '4' }], pending: '0' }, 0n)).toEqual([{ epoch: 1, earned: 4n, status: 'claimable' }])
  })
})
