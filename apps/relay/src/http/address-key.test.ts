import { describe, expect, test } from 'vitest'
import { addressKey } from './address-key.ts'

describe('addressKey', () => {
  test('behavior: an IPv4 address counts alone, also when mapped into IPv6', () => {
    expect(addressKey('10.0.0.1')).toBe('10.0.0.1')
    expect(addressKey('::ffff:10.0.0.1')).toBe('10.0.0.1')
  })

  test('behavior: IPv6 addresses of one /64 count as one source', () => {
    expect(addressKey('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:2:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:3::1')).not.toBe(addressKey('2001:db8:1:2::1'))
    expect(addressKey('::1')).toBe('0:0:0:0::/64')
  })

  test('behavior: an unknown address still has a key', () => {
    expect(addressKey(undefined)).toBe('unknown')
  })
})
