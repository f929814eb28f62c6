import type { BrowserDownload, BrowserKonbini } from './browser-konbini.ts'

/**
 * Tells the meta node what this download measured since its last report (sessions stay open), as
 * the CLI does when a download ends: call it when a save or a read reaching the file's end
 * completes. Best effort: it never throws, and the page does not wait for it.
 * @example if (outcome === 'end') reportMeasured(held.download)
 */
export function reportMeasured(download: BrowserDownload): void {
  download.report().catch(() => {})
}

/** A download held open for one reader; `release()` when done reading. */
export interface HeldDownload {
  download: BrowserDownload
  release(): void
}

interface Entry {
  download: Promise<BrowserDownload>
  readers: number
  evicted: boolean
}

/**
 * Keeps the last few `open(root)` results so a media element's many Range requests (and Save after
 * Preview) reuse one download session. An evicted session is finished once its last reader releases it.
 * @example const cache = createDownloadCache(() => konbini); const held = await cache.acquire(root)
 */
export function createDownloadCache(konbini: BrowserKonbini, max = 6) {
  const entries = new Map<string, Entry>()
  const finish = (entry: Entry) => {
    entry.download.then((d) => d.finish()).catch(() => {})
  }
  const evict = (root: string) => {
    const entry = entries.get(root)
    if (!entry) return
    entries.delete(root)
    entry.evicted = true
    if (entry.readers === 0) finish(entry)
  }
  return {
    async acquire(root: string): Promise<HeldDownload> {
      let entry = entries.get(root)
      if (entry) entries.delete(root)
      else entry = { download: konbini.open(root), readers: 0, evicted: false }
      entries.set(root, entry)
      for (const old of entries.keys()) {
        if (entries.size <= max) break
        evict(old)
      }
      const held = entry
      held.readers++
      let released = false
      const release = () => {
        if (released) return
        released = true
        held.readers--
        if (held.evicted && held.readers === 0) finish(held)
      }
      try {
        return { download: await held.download, release }
      } catch (err) {
        release()
        if (entries.get(root) === held) entries.delete(root)
        throw err
      }
    },
    /** Finishes every session (on page unmount). */
    clear() {
      for (const root of [...entries.keys()]) evict(root)
    },
  }
}

export type DownloadCache = ReturnType<typeof createDownloadCache>
