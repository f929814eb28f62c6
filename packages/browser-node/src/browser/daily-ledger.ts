import { committed, settle } from './idb.ts'

const HOUR_MS = 3_600_000
const WINDOW_HOURS = 24

/**
 * Bytes a donor served in the rolling last 24 hours, in hourly buckets kept in IndexedDB (so a
 * reload does not reset the cap). A bucket leaves the window only when all of it is older than
 * 24 h: the count errs on the side of the cap.
 */
export class DailyLedger {
  private readonly db: IDBDatabase
  private readonly buckets = new Map<number, number>()
  private dirty = new Set<number>()
  private flushing: Promise<void> | undefined

  private constructor(db: IDBDatabase) {
    this.db = db
  }

  static async open(db: IDBDatabase): Promise<DailyLedger> {
    const ledger = new DailyLedger(db)
    const store = db.transaction('ledger').objectStore('ledger')
    const [keys, values] = await Promise.all([settle(store.getAllKeys()), settle(store.getAll())])
    for (const [i, key] of keys.entries()) ledger.buckets.set(Number(key), Number(values[i]))
    return ledger
  }

  /** Bytes served in the last 24 hours. */
  last24h(now = Date.now()): number {
    const oldest = Math.floor(now / HOUR_MS) - WINDOW_HOURS + 1
    let total = 0
    for (const [hour, bytes] of this.buckets) if (hour >= oldest) total += bytes
    return total
  }

  /** Counts `bytes` if they fit under `cap` (0 = no cap); false when they would pass it. */
  tryReserve(bytes: number, cap: number, now = Date.now()): boolean {
    if (cap > 0 && this.last24h(now) + bytes > cap) return false
    const hour = Math.floor(now / HOUR_MS)
    this.buckets.set(hour, (this.buckets.get(hour) ?? 0) + bytes)
    this.dirty.add(hour)
    this.flushSoon()
    return true
  }

  private flushSoon(): void {
    if (this.flushing) return
    this.flushing = new Promise<void>((resolve) => setTimeout(resolve, 500)).then(() => this.flush())
  }

  /** Writes changed buckets and drops those out of the window. */
  async flush(): Promise<void> {
    const hours = [...this.dirty]
    this.dirty = new Set()
    this.flushing = undefined
    const oldest = Math.floor(Date.now() / HOUR_MS) - WINDOW_HOURS + 1
    const tx = this.db.transaction('ledger', 'readwrite')
    const store = tx.objectStore('ledger')
    for (const hour of hours) store.put(this.buckets.get(hour) ?? 0, hour)
    for (const hour of [...this.buckets.keys()])
      if (hour < oldest) {
        this.buckets.delete(hour)
        store.delete(hour)
      }
    await committed(tx)
  }
}
