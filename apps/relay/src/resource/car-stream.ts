import * as dagPb from '@ipld/dag-pb'
import { CarWriter } from '@ipld/car'
import { assertSupportedCid, DAG_PB_CODEC } from '@konbini/protocol'
import type { CID } from 'multiformats/cid'

/** A block as it goes into a CAR. */
export interface CarBlock {
  cid: CID
  bytes: Uint8Array
}

/**
 * Yields every block of the dag-pb/raw DAG under `root` once, in depth-first order (a node, then
 * each link's subtree in link order), reading each block only when the consumer asks for it.
 * `scope: 'block'` yields the root block alone.
 */
export async function* dagBlocks(
  root: CID,
  read: (cid: CID) => Promise<Uint8Array>,
  options: { scope?: 'block' | 'all'; signal?: AbortSignal } = {},
): AsyncGenerator<CarBlock> {
  const seen = new Set<string>()
  const stack: CID[] = [root]
  for (let cid = stack.pop(); cid !== undefined; cid = stack.pop()) {
    options.signal?.throwIfAborted()
    const key = cid.toV1().toString()
    // a subtree met twice (identical chunks) is sent once: the response says dups=n
    if (seen.has(key)) continue
    seen.add(key)
    assertSupportedCid(cid)
    const bytes = await read(cid)
    yield { cid, bytes }
    if (cid.code !== DAG_PB_CODEC || options.scope === 'block') continue
    const links = dagPb.decode(bytes).Links.map((link) => link.Hash)
    stack.push(...links.reverse())
  }
}

/**
 * Encodes blocks as a CARv1 with `CarWriter`, yielding bytes as they are produced. `CarWriter.put`
 * resolves only once its output was pulled, so blocks are read no faster than the consumer takes
 * them. Returning early stops the producer and waits for it, so nothing is left pending.
 */
export async function* carStream(roots: CID[], blocks: AsyncIterable<CarBlock>): AsyncGenerator<Uint8Array> {
  const { writer, out } = CarWriter.create(roots)
  let stop = false
  let failure: { err: unknown } | undefined
  const producer = (async () => {
    try {
      for await (const block of blocks) {
        if (stop) break
        await writer.put(block)
      }
    } catch (err) {
      failure = { err }
    } finally {
      await writer.close()
    }
  })()
  const it = out[Symbol.asyncIterator]()
  try {
    for (let next = await it.next(); next.done !== true; next = await it.next()) yield next.value
    await producer
    if (failure !== undefined) throw failure.err
  } finally {
    stop = true
    // a producer blocked in put() waits for its bytes to be pulled: pull and drop them
    while ((await it.next()).done !== true) {}
    await producer
  }
}
