import { describe, expect, test } from 'vitest'
import { formatAge, formatBytes, formatMBps, formatPercent, shortId } from './format.ts'

describe('formatBytes', () => {
  test('default', () => {
    expect(formatBytes(0)).toBe('0 B')
    expect(formatBytes(1023)).toBe('1023 B')
    expect(formatBytes(1536)).toBe('1.5 KiB')
    expect(formatBytes(256 * 1024 * 1024)).toBe('256 MiB')
    expect(formatBytes(3 * 1024 ** 4)).toBe('3.0 TiB')
  })
  test('error: nonsense input reads as a dash', () => {
    expect(formatBytes(-1)).toBe('—')
    expect(formatBytes(Number.NaN)).toBe('—')
  })
})

describe('rates and ratios', () => {
  test('default', () => {
    expect(formatMBps(12_500_000)).toBe('12.5 MB/s')
    expect(formatMBps(1_234_567)).toBe('1.23 MB/s')
    expect(formatMBps(250_000_000)).toBe('250 MB/s')
    expect(formatPercent(0.9876)).toBe('98.8%')
    expect(formatPercent(1.5)).toBe('100.0%')
  })
})

describe('shortId and formatAge', () => {
  test('default', () => {
    expect(shortId('12D3KooWAbCdEfGhIjKlMnOp')).toBe('12D3Ko…MnOp')
    expect(shortId('short')).toBe('short')
    expect(formatAge(1000, 1005)).toBe('5 s ago')
    expect(formatAge(1000, 1000 + 90)).toBe('1 min ago')
    expect(formatAge(1000, 1000 + 7200)).toBe('2 h ago')
  })
})
