import * as dagPb from '@ipld/dag-pb'
import { DAG_PB_CODEC, RAW_CODEC, UnsupportedCidError } from '@konbini/protocol'
import { UnixFS } from 'ipfs-unixfs'
import type { CID } from 'multiformats/cid'
import type { DurableBlockstore } from './durable-blockstore.ts'
import type { BlockRange } from './file-range.ts'
import type { PieceSource } from './send-body.ts'

/** Multihash code of an identity "hash": the block's bytes are the digest itself. */
export const IDENTITY = 0x00
/** Deeper file DAGs are refused: a balanced tree of 1 MiB leaves is 3 levels deep for a terabyte. */
const MAX_DEPTH = 32

/** Where the next bytes of a file come from: part of a leaf block's file, or bytes already in hand. */
type Extent = { cid: CID; from: number; to: number } | { bytes: Uint8Array }

/**
 * Bytes [start, start + length) of the UnixFS file (dag-pb or raw root) under `root`, pulled from the
 * store as the consumer asks for them. Leaves are streamed from their files one pooled piece at a
 * time (`DurableBlockstore.openRange`); only interior nodes, which hold links rather than data, are
 * read whole. So a reader holds a piece and the links of the nodes on its path — never a whole
 * leaf, nor the whole requested range the UnixFS exporter reads ahead of a slow client. Declared
 * block sizes bound every read; a DAG whose blocks hold fewer bytes than its nodes declare ends in
 * UnsupportedCidError after the bytes it had. A piece costs a callback, not promises: at hundreds
 * of clients, per-piece garbage is what grows V8's heap.
 */
export function unixfsFileBytes(store: DurableBlockstore, root: CID, start: number, length: number, signal?: AbortSignal): PieceSource {
  return new FilePieces(store, root, extents(store, root, 0, start, start + length, 0, signal), length)
}

class FilePieces implements PieceSource {
  private open: BlockRange | undefined
  private sent = 0
  private readonly store: DurableBlockstore
  private readonly root: CID
  private readonly extents: AsyncGenerator<Extent>
  private readonly length: number

  constructor(store: DurableBlockstore, root: CID, extents: AsyncGenerator<Extent>, length: number) {
    this.store = store
    this.root = root
    this.extents = extents
    this.length = length
  }

  read(done: (err: unknown, piece?: Uint8Array) => void): void {
    if (this.open === undefined) {
      this.advance(done)
      return
    }
    this.open.read((err, piece) => {
      if (err !== null && err !== undefined) return done(err)
      if (piece === undefined) return this.advance(done)
      this.sent += piece.byteLength
      done(null, piece)
    })
  }

  async close(): Promise<void> {
    await this.closeOpen()
    await this.extents.return(undefined)
  }

  /** The open block is done (or none is open): on to the next extent, a promise per block. */
  private advance(done: (err: unknown, piece?: Uint8Array) => void): void {
    this.next().then((bytes) => {
      if (bytes === null) this.read(done)
      else done(null, bytes)
    }, done)
  }

  /** Bytes in hand, null when a block was opened to read from, undefined at the end. */
  private async next(): Promise<Uint8Array | null | undefined> {
    await this.closeOpen()
    const extent = await this.extents.next()
    if (extent.done === true) {
      if (this.sent !== this.length) throw new UnsupportedCidError({ cid: this.root.toString(), reason: 'its blocks hold fewer bytes than its nodes declare' })
      return undefined
    }
    if ('bytes' in extent.value) {
      this.sent += extent.value.bytes.byteLength
      return extent.value.bytes
    }
    this.open = await this.store.openRange(extent.value.cid, extent.value.from, extent.value.to)
    return null
  }

  private async closeOpen(): Promise<void> {
    const open = this.open
    this.open = undefined
    await open?.close()
  }
}

/** The extents of the subtree at `cid` (whose data begins at file offset `offset`) that fall in [from, to), in file order. */
async function* extents(
  store: DurableBlockstore,
  cid: CID,
  offset: number,
  from: number,
  to: number,
  depth: number,
  signal?: AbortSignal,
): AsyncGenerator<Extent> {
  signal?.throwIfAborted()
  if (depth > MAX_DEPTH) throw new UnsupportedCidError({ cid: cid.toString(), reason: `its DAG is deeper than ${MAX_DEPTH} levels` })
  const inline = cid.multihash.code === IDENTITY ? cid.multihash.digest : undefined
  if (cid.code === RAW_CODEC) {
    if (inline !== undefined) yield { bytes: inline.subarray(from - offset, to - offset) }
    else yield { cid, from: from - offset, to: to - offset }
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
  const data = file.data
  if (data !== undefined && data.byteLength > 0) {
    if (at + data.byteLength > from && at < to) yield { bytes: data.subarray(Math.max(0, from - at), Math.min(data.byteLength, to - at)) }
    at += data.byteLength
  }
  for (let i = 0; i < node.Links.length && at < to; i++) {
    const size = Number(file.blockSizes[i])
    const child = (node.Links[i] as dagPb.PBLink).Hash
    // a child is read only within its declared extent, so a lying child cannot send more than declared
    const [lo, hi] = [Math.max(from, at), Math.min(to, at + size)]
    // a stored raw leaf (the usual case) is one extent: no generator of its own
    if (at + size > from && child.code === RAW_CODEC && child.multihash.code !== IDENTITY) yield { cid: child, from: lo - at, to: hi - at }
    else if (at + size > from) yield* extents(store, child, at, lo, hi, depth + 1, signal)
    at += size
  }
}
