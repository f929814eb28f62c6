import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname, join, resolve, sep } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { assertSafeName, InvalidNameError } from '@konbini/protocol'
import { exporter, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import type { Download } from '../download.ts'

type Store = ReturnType<Download['pool']['blockstore']>

/**
 * Writes a downloaded file or folder to `out`. Every entry name from the network is checked, and
 * every path must stay under `out`. A file is written to a temp name and renamed when whole.
 */
export async function writeDownload(download: Download, out: string, onBytes?: (n: number) => void): Promise<{ files: number; bytes: number }> {
  const totals = { files: 0, bytes: 0 }
  const target = resolve(out)
  await writeEntry(download.entry, target, target, download.pool.blockstore(), download.readAhead, totals, onBytes)
  return totals
}

async function writeEntry(
  entry: UnixFSEntry,
  target: string,
  base: string,
  store: Store,
  readAhead: number,
  totals: { files: number; bytes: number },
  onBytes?: (n: number) => void,
): Promise<void> {
  if (entry.type === 'directory') {
    await mkdir(target, { recursive: true })
    for await (const child of entry.entries()) {
      assertSafeName(child.name)
      const childTarget = resolve(target, child.name)
      if (!childTarget.startsWith(base + sep)) throw new InvalidNameError({ name: child.name, reason: 'it leads outside the target folder' })
      await writeEntry(await exporter(child.cid, store), childTarget, base, store, readAhead, totals, onBytes)
    }
    return
  }
  if (entry.type !== 'file' && entry.type !== 'raw' && entry.type !== 'identity') return
  await mkdir(dirname(target), { recursive: true })
  const temp = join(dirname(target), `.${process.pid}-${Date.now()}.konbini-partial`)
  try {
    const source = Readable.from(
      (async function* () {
        for await (const chunk of entry.content({ blockReadConcurrency: readAhead })) {
          totals.bytes += chunk.byteLength
          onBytes?.(chunk.byteLength)
          yield chunk
        }
      })(),
    )
    await pipeline(source, createWriteStream(temp))
    await rename(temp, target)
    totals.files++
  } catch (err) {
    await rm(temp, { force: true })
    throw err
  }
}
