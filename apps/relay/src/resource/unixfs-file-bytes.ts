import * as dagPb from '@ipld/dag-pb'
import { DAG_PB_CODEC, RAW_CODEC, UnsupportedCidError } from '@konbini/protocol'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import type { DurableBlockstore } from './durable-blockstore.ts'

/** Multihash code of an identity "hash": the block's bytes are the digest itself. */
const IDENTITY = 0x00
/** Deeper file DAGs are refused: a balanced tree of 1 MiB leaves is 3 levels deep for a terabyte. */
const MAX_DEPTH = 32

/**
 * Bytes [start, start + length) of the UnixFS file (dag-pb or raw root) under `root`, pulled from the
 * store as the consumer asks for them. Leaves are streamed from their files in small pieces
 * (`DurableBlockstore.readRange`); only interior nodes, which hold links rather than data, are read
 * whole. So a reader holds a piece or two and the links of the nodes on its path, never a whole
 * leaf or a slice of the file — unlike the UnixFS exporter, which reads the whole requested range
 * ahead of a slow client. Declared block sizes bound every read; a DAG whose blocks hold fewer
 * bytes than its nodes declare ends in UnsupportedCidError (after what it had).
 */
export async function* unixfsFileBytes(store: DurableBlockstore, root: CID, start: number, length: number, signal?: AbortSignal): AsyncGenerator<Uint8Array> {
  let sent = 0
  for await (const bytes of fileRange(store, root, 0, start, start + length, 0, signal)) {
    sent += bytes.byteLength
    yield bytes
  }
  if (sent !== length) throw new UnsupportedCidError({ cid: root.toString(), reason: 'its blocks hold fewer bytes than its nodes declare' })
}

/** The bytes of the subtree at `cid` (whose data begins at file offset `offset`) that fall in [from, to). */
async function* fileRange(
  store: DurableBlockstore,
  cid: CID,
  offset: number,
  from: number,
  to: number,
  depth: number,
  signal?: AbortSignal,
): AsyncGenerator<Uint8Array> {
  signal?.throwIfAborted()
  if (depth > MAX_DEPTH) throw new UnsupportedCidError({ cid: cid.toString(), reason: `its DAG is deeper than ${MAX_DEPTH} levels` })
  const inline = cid.multihash.code === IDENTITY ? cid.multihash.digest : undefined
  if (cid.code === RAW_CODEC) {
    if (inline !== undefined) yield inline.subarray(Math.max(0, from - offset), Math.max(0, to - offset))
    else yield* store.readRange(cid, Math.max(0, from - offset), to - offset)
    return
  }
  if (cid.code !== DAG_PB_CODEC) throw new UnsupportedCidError({ cid: cid.toString(), reason: 'a UnixFS file holds only dag-pb and raw blocks' })
  const node = dagPb.decode(inline ?? (await store.getBytes(cid)))
  let file: UnixFS
  try {
    file = UnixFS.unmarshal(node.Data ?? new Uint8Array())
  } catch {
    throw new UnsupportedCidError({ cid: cid.toString(), reason: 'it is not a UnixFS node' })
  }
  if (node.Links.length !== file.blockSizes.length) throw new UnsupportedCidError({ cid: cid.toString(), reason: 'its links and block sizes disagree' })
  let at = offset
  if (file.data !== undefined && file.data.byteLength > 0) {
    const data = file.data
    if (at + data.byteLength > from && at < to) yield data.subarray(Math.max(0, from - at), Math.min(data.byteLength, to - at))
    at += data.byteLength
  }
  for (let i = 0; i < node.Links.length && at < to; i++) {
    const size = Number(file.blockSizes[i])
    // a child is read only within its declared extent, so a lying child cannot send more than declared
    if (at + size > from) yield* fileRange(store, (node.Links[i] as dagPb.PBLink).Hash, at, Math.max(from, at), Math.min(to, at + size), depth + 1, signal)
    at += size
  }
}
