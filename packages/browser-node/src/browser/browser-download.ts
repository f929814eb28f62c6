import type { Download } from '../download.ts'

export interface BrowserDownload {
  root: string
  size: number
  type: 'file' | 'directory'
  /** A folder's entries (name, CID, size); undefined for a file. */
  entries?: Array<{ name: string; cid: string; size: number }>
  /** Verified bytes of the file, or of a byte range of it, pulled from every provider at once. */
  read(range?: { offset: number; length?: number }, signal?: AbortSignal): AsyncIterable<Uint8Array>
  /** Where the bytes came from so far. */
  stats(): { bytesFromPeers: number; bytesFromNodes: number; peers: number }
  /** Each provider's numbers so far (bytes, blocks, busy time, failures, first byte), for diagnostics. */
  providerStats(): ReturnType<Download['pool']['stats']>
  /** Sends what was measured since the last report to the meta node, sessions kept open (call it when a save or a whole read ends). */
  report(): Promise<void>
  /** Reports the providers' numbers to the meta node and closes the sessions. */
  finish(): Promise<void>
}

/** Wraps a download for a page: byte ranges for media and saves, and the share of bytes from peers. */
export async function toBrowserDownload(download: Download, counters: { peers: number; nodes: number; peerIds: Set<string> }): Promise<BrowserDownload> {
  const { entry } = download
  const isDirectory = entry.type === 'directory'
  const entries: BrowserDownload['entries'] = []
  if (entry.type === 'directory')
    for await (const child of entry.entries()) entries.push({ name: child.name, cid: child.cid.toString(), size: Number(child.size ?? 0) })
  return {
    root: entry.cid.toString(),
    size: Number(entry.size),
    type: isDirectory ? 'directory' : 'file',
    ...(isDirectory && { entries }),
    read(range, signal) {
      if (entry.type !== 'file' && entry.type !== 'raw') throw new TypeError(`${entry.cid} is a ${entry.type}, not a file`)
      return entry.content({
        blockReadConcurrency: download.readAhead,
        ...(range !== undefined && { offset: range.offset }),
        ...(range?.length !== undefined && { length: range.length }),
        ...(signal !== undefined && { signal }),
      })
    },
    stats: () => ({ bytesFromPeers: counters.peers, bytesFromNodes: counters.nodes, peers: counters.peerIds.size }),
    providerStats: () => download.pool.stats(),
    report: () => download.report(),
    finish: () => download.finish(),
  }
}
