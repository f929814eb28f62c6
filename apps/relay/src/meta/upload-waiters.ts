import { RateLimitedError } from '@konbini/protocol'
import { addressKey } from '../http/address-key.ts'

/** How often a watched upload is read again, for reports that landed at another meta process sharing the index. */
const RECHECK_MS = 1000

interface Watch {
  wake: Set<() => void>
  timer: ReturnType<typeof setInterval>
}

export interface UploadWaitersInit {
  perAddress: number
  total: number
  recheckMs?: number
}

/**
 * The long-polls of `GET /v1/uploads/{ticketId}?wait=`: a waiter costs one timer (its deadline) and
 * a place in its ticket's set. A storage report that completes an upload wakes that ticket's waiters
 * (`notify`); for reports taken by another meta process over a shared index, each watched ticket —
 * not each waiter — is read again every `recheckMs`. Waiters are capped per address and in all.
 */
export class UploadWaiters {
  private readonly watches = new Map<string, Watch>()
  private readonly perKey = new Map<string, number>()
  private total = 0
  private readonly init: UploadWaitersInit

  constructor(init: UploadWaitersInit) {
    this.init = init
  }

  /** Waiters now (tests, metrics). */
  get size(): number {
    return this.total
  }

  /**
   * Resolves when `ticketId` is notified, `isDone` reads true at a recheck, `ms` passed or `signal`
   * aborted. Throws RateLimitedError when `address` (or everyone) already waits too much.
   */
  async wait({
    ticketId,
    address,
    ms,
    isDone,
    signal,
  }: {
    ticketId: string
    address: string
    ms: number
    isDone: () => Promise<boolean>
    signal?: AbortSignal
  }): Promise<void> {
    if (signal?.aborted) return
    const key = addressKey(address)
    const held = this.perKey.get(key) ?? 0
    // RateLimitedError (429): clients already back off and retry on it
    if (this.total >= this.init.total) throw new RateLimitedError({ what: 'upload-status requests waiting here' })
    if (held >= this.init.perAddress) throw new RateLimitedError({ what: 'upload-status requests waiting for your address' })
    this.perKey.set(key, held + 1)
    this.total++
    const watch = this.watch(ticketId, isDone)
    try {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(deadline)
          signal?.removeEventListener('abort', done)
          watch.wake.delete(done)
          resolve()
        }
        const deadline = setTimeout(done, ms)
        signal?.addEventListener('abort', done, { once: true })
        watch.wake.add(done)
      })
    } finally {
      this.total--
      const left = (this.perKey.get(key) ?? 1) - 1
      if (left > 0) this.perKey.set(key, left)
      else this.perKey.delete(key)
      if (watch.wake.size === 0 && this.watches.get(ticketId) === watch) {
        clearInterval(watch.timer)
        this.watches.delete(ticketId)
      }
    }
  }

  /** Wakes every waiter of `ticketId` (its upload changed). */
  notify(ticketId: string): void {
    const watch = this.watches.get(ticketId)
    if (watch === undefined) return
    for (const wake of [...watch.wake]) wake()
  }

  /** Wakes every waiter (the node stops). */
  stop(): void {
    for (const ticketId of [...this.watches.keys()]) this.notify(ticketId)
  }

  private watch(ticketId: string, isDone: () => Promise<boolean>): Watch {
    const existing = this.watches.get(ticketId)
    if (existing !== undefined) return existing
    let reading = false
    const timer = setInterval(() => {
      if (reading) return
      reading = true
      isDone()
        .then((done) => done && this.notify(ticketId))
        .catch(() => {})
        .finally(() => {
          reading = false
        })
    }, this.init.recheckMs ?? RECHECK_MS)
    timer.unref()
    const watch: Watch = { wake: new Set(), timer }
    this.watches.set(ticketId, watch)
    return watch
  }
}
