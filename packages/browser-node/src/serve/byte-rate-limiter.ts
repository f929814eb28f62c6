/** The cap holds over short windows too: bursts are at most 1/20 s of traffic. */
const BURST_FRACTION = 20

/**
 * A token bucket of bytes per second: the operator's egress cap, or the public path's rate limit.
 * `take` waits until the bytes fit; a rate of 0 means unlimited.
 */
export class ByteRateLimiter {
  private rate: number
  private tokens: number
  private last: number
  private queue: Promise<void> = Promise.resolve()
  /** Bytes that went through this limiter (granted, not merely asked for). */
  total = 0

  constructor(bytesPerSecond: number) {
    this.rate = bytesPerSecond
    this.tokens = bytesPerSecond / BURST_FRACTION
    this.last = performance.now()
  }

  get bytesPerSecond(): number {
    return this.rate
  }

  setRate(bytesPerSecond: number): void {
    this.rate = bytesPerSecond
    this.tokens = Math.min(this.tokens, bytesPerSecond)
  }

  /** Resolves when `bytes` may be sent. Calls are served in order. */
  take(bytes: number, signal?: AbortSignal): Promise<void> {
    if (this.rate <= 0) {
      this.total += bytes
      return Promise.resolve()
    }
    const turn = this.queue.then(() => this.wait(bytes, signal))
    this.queue = turn.catch(() => {})
    return turn
  }

  private async wait(bytes: number, signal?: AbortSignal): Promise<void> {
    for (;;) {
      signal?.throwIfAborted()
      const now = performance.now()
      // a burst of at most 1/BURST_FRACTION of a second's worth (or one block)
      this.tokens = Math.min(Math.max(this.rate / BURST_FRACTION, bytes), this.tokens + ((now - this.last) / 1000) * this.rate)
      this.last = now
      if (this.tokens >= bytes) {
        this.tokens -= bytes
        this.total += bytes
        return
      }
      const ms = ((bytes - this.tokens) / this.rate) * 1000
      await sleep(Math.min(Math.max(ms, 1), 1000), signal)
    }
  }
}

/** Waits `ms`, or less when `signal` aborts (the caller then sees the abort on its next check). */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}
