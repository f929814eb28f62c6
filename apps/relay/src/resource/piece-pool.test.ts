import { afterEach, describe, expect, test, vi } from 'vitest'
import { PiecePool } from './piece-pool.ts'

afterEach(() => {
  vi.useRealTimers()
})

describe('PiecePool', () => {
  test('behavior: a piece given back is lent again, once, even when given twice or as a view', () => {
    const pool = new PiecePool({ pieceBytes: 1024 })
    const a = pool.take()
    pool.give(a.subarray(0, 10))
    pool.give(a)
    const b = pool.take()
    const c = pool.take()
    expect(b.buffer).toBe(a.buffer)
    expect(b.byteOffset).toBe(a.byteOffset)
    expect(c.byteOffset).not.toBe(b.byteOffset)
  })

  test('behavior: bytes that are not the pool’s are left alone', () => {
    const pool = new PiecePool({ pieceBytes: 1024 })
    pool.give(new Uint8Array(1024))
    expect(pool.heldBytes).toBe(0)
  })

  test('behavior: a slab idle for a whole sweep period is freed, one in use is kept', () => {
    vi.useFakeTimers()
    const pool = new PiecePool({ pieceBytes: 1024 * 1024 })
    const lent = pool.take()
    expect(pool.heldBytes).toBeGreaterThan(32 * 1024 * 1024)
    vi.advanceTimersByTime(10_000)
    expect(pool.heldBytes).toBeGreaterThan(0)
    pool.give(lent)
    vi.advanceTimersByTime(4_000)
    expect(pool.heldBytes).toBe(0)
    // its memory is gone at once, not at the next collection
    expect(lent.buffer.byteLength).toBe(0)
  })
})
