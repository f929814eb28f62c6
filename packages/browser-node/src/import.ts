import { importer, type ImportCandidate, type ImporterOptions, type ImportResult } from 'ipfs-unixfs-importer'
import type { CID } from 'multiformats/cid'

/** Receives each block as the importer makes it (leaves first, root last). */
export type BlockSink = (cid: CID, bytes: Uint8Array) => void | Promise<void>

/**
 * The importer options of the unixfs-v1-2025 profile (IPIP-499): CIDv1, raw leaves,
 * 1 MiB chunks, 1024 links per node, HAMT past 256 KiB measured as block bytes.
 * A fresh object each time: the importer mutates what it is given.
 */
export function unixfsV12025(): ImporterOptions {
  return { profile: 'unixfs-v1-2025', fileImportConcurrency: 1, blockWriteConcurrency: 8 }
}

/**
 * Imports files and folders into blocks with the unixfs-v1-2025 profile, handing every block to
 * `sink` and waiting for it (so the caller's backpressure reaches the reader). Returns the root entry:
 * the last one the importer yields.
 *
 * @example
 * const root = await importToSink([{ path: 'a.txt', content: bytes }], (cid, block) => store.put(cid, block))
 */
export async function importToSink(source: Iterable<ImportCandidate> | AsyncIterable<ImportCandidate>, sink: BlockSink): Promise<ImportResult> {
  let root: ImportResult | undefined
  const storage = {
    async put(cid: CID, bytes: Uint8Array) {
      await sink(cid, bytes)
      return cid
    },
  }
  for await (const entry of importer(source, storage, unixfsV12025())) root = entry
  if (root === undefined) throw new TypeError('nothing to import')
  return root
}

/**
 * Regroups a byte stream into whole chunks of `size` bytes (the last may be short):
 * the importer hashes 1 MiB pieces about twice as fast as 64 KiB reads.
 */
export async function* rechunk(source: AsyncIterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let buffer = new Uint8Array(size)
  let filled = 0
  for await (const piece of source) {
    let at = 0
    while (at < piece.byteLength) {
      const take = Math.min(size - filled, piece.byteLength - at)
      buffer.set(piece.subarray(at, at + take), filled)
      filled += take
      at += take
      if (filled === size) {
        yield buffer
        buffer = new Uint8Array(size)
        filled = 0
      }
    }
  }
  if (filled > 0) yield buffer.subarray(0, filled)
}
