import { describe, expect, test } from 'vitest'
import { readsToEnd } from './sw-bridge.ts'

describe('readsToEnd', () => {
  test('behavior: a range ending on the last byte reaches the end; one ending before does not', () => {
    expect(readsToEnd({ offset: 0, length: 10 }, 10)).toBe(true)
    expect(readsToEnd({ offset: 6, length: 4 }, 10)).toBe(true)
    expect(readsToEnd({ offset: 0, length: 9 }, 10)).toBe(false)
    expect(readsToEnd({ offset: 0, length: 0 }, 0)).toBe(true)
  })
})
