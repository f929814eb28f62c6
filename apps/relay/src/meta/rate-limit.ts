import { RateLimitedError } from '@konbini/protocol'

/** Token buckets keyed by caller (IP or address): `rate` per second, bursts of `burst`. */
export class KeyedRateLimit {
  private readonly buckets = new Map<string, { tokens: number; at: number }>()
  private readonly rate: number
  private readonly burst: number
  private readonly what: string

  constructor({ rate, burst, what }: { rate: number; burst?: number; what: string }) {
    this.rate = rate
    this.burst = burst ?? rate * 2
    this.what = what
  }

  /** Spends one token for `key` or throws RateLimitedError. */
  take(key: string, now = performance.now()): void {
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, at: now }
    bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate)
    bucket.at = now
    if (bucket.tokens < 1) throw new RateLimitedError({ what: this.what })
    bucket.tokens -= 1
    this.buckets.set(key, bucket)
    if (this.buckets.size > 10_000) this.prune(now)
  }

  private prune(now: number): void {
    for (const [key, b] of this.buckets) if (now - b.at > 60_000) this.buckets.delete(key)
  }
}
