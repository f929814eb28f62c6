import { decode as decodePb } from '@ipld/dag-pb'
import { DAG_PB_CODEC } from '@konbini/protocol'
import type { CID } from 'multiformats/cid'

export interface CopyDagInit {
  /** A block's verified bytes (from the local store when present, else from the network). */
  get(cid: CID): Promise<Uint8Array>
  /** Stores a batch of blocks; resolves when they are written. */
  put(blocks: Array<{ cid: CID; bytes: Uint8Array }>): Promise<void>
  /** Blocks in flight at once (default 32). */
  concurrency?: number
  signal?: AbortSignal
}

/**
 * Copies a whole dag-pb/raw DAG, a level at a time, `concurrency` blocks in flight: a full
 * node's repair copy and a donor tab's cache fill. Returns every CID of the DAG and its bytes.
 */
export async function copyDag(root: CID, init: CopyDagInit): Promise<{ cids: string[]; bytes: number }> {
  const concurrency = init.concurrency ?? 32
  const seen = new Set<string>()
  let bytes = 0
  let frontier: CID[] = [root]
  while (frontier.length > 0) {
    const next: CID[] = []
    for (let i = 0; i < frontier.length; i += concurrency) {
      init.signal?.throwIfAborted()
      const slice = frontier.slice(i, i + concurrency).filter((cid) => !seen.has(cid.toString()))
      for (const cid of slice) seen.add(cid.toString())
      const blocks = await Promise.all(slice.map(async (cid) => ({ cid, bytes: await init.get(cid) })))
      await init.put(blocks)
      for (const block of blocks) {
        bytes += block.bytes.byteLength
        if (block.cid.code === DAG_PB_CODEC) for (const link of decodePb(block.bytes).Links) next.push(link.Hash)
      }
    }
    frontier = next
  }
  return { cids: [...seen], bytes }
}
