import { afterEach, describe, expect, test, vi } from 'vitest'
import { UploadWaiters } from './upload-waiters.ts'

afterEach(() => {
  vi.useRealTimers()
})

const never = async () => false

describe('UploadWaiters', () => {
  test('behavior: a notification wakes every waiter of its ticket and no other', async () => {
    const waiters = new UploadWaiters({ perAddress: 10, total: 100 })
    const woken: string[] = []
    const a = waiters.wait({ ticketId: 'a', address: '10.0.0.1', ms: 30_000, isDone: never }).then(() => woken.push('a'))
    const b = waiters.wait({ ticketId: 'a', address: '10.0.0.2', ms: 30_000, isDone: never }).then(() => woken.push('a'))
    const c = waiters.wait({ ticketId: 'c', address: '10.0.0.3', ms: 50, isDone: never }).then(() => woken.push('c'))
    expect(waiters.size).toBe(3)
    waiters.notify('a')
    await Promise.all([a, b])
    expect(woken).toEqual(['a', 'a'])
    await c
    expect(waiters.size).toBe(0)
  })

  test('error: an address past its cap gets RateLimitedError; a waiter that left frees its place', async () => {
    const waiters = new UploadWaiters({ perAddress: 2, total: 100 })
    const left = new AbortController()
    const first = waiters.wait({ ticketId: 't', address: '10.0.0.1', ms: 30_000, isDone: never, signal: left.signal })
    const second = waiters.wait({ ticketId: 't', address: '10.0.0.1', ms: 30_000, isDone: never })
    await expect(waiters.wait({ ticketId: 't', address: '10.0.0.1', ms: 30_000, isDone: never })).rejects.toMatchObject({
      name: 'RateLimitedError',
      status: 429,
    })
    left.abort()
    await first
    const third = waiters.wait({ ticketId: 't', address: '10.0.0.1', ms: 30_000, isDone: never })
    waiters.stop()
    await Promise.all([second, third])
  })

  test('behavior: a completion seen by another meta process is found by one recheck per ticket, not per waiter', async () => {
    vi.useFakeTimers()
    const waiters = new UploadWaiters({ perAddress: 100, total: 100, recheckMs: 1000 })
    let reads = 0
    let done = false
    const isDone = async () => {
      reads++
      return done
    }
    const all = Promise.all(Array.from({ length: 50 }, (_, i) => waiters.wait({ ticketId: 't', address: `10.0.0.${i}`, ms: 30_000, isDone })))
    await vi.advanceTimersByTimeAsync(3000)
    expect(reads).toBe(3)
    done = true
    await vi.advanceTimersByTimeAsync(1000)
    await all
    expect(waiters.size).toBe(0)
  })
})
