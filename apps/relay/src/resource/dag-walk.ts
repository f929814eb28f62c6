import { decode as decodePb } from '@ipld/dag-pb'
import { DAG_PB_CODEC } from '@konbini/protocol'
import type { CID } from 'multiformats/cid'
import type { DurableBlockstore } from './durable-blockstore.ts'

/** What a complete DAG under a root adds up to on this node. */
export interface DagSummary {
  blocks: number
  bytes: number
  /** CIDs the DAG links to that this node does not hold. */
  missing: CID[]
}

/**
 * Walks a dag-pb/raw DAG in the local store (reading only dag-pb nodes; leaves are only checked
 * for presence) to confirm it is whole before the node reports it durable.
 */
export async function summarizeDag(store: DurableBlockstore, root: CID, maxMissing = 16): Promise<DagSummary> {
  const summary: DagSummary = { blocks: 0, bytes: 0, missing: [] }
  const seen = new Set<string>()
  const stack: CID[] = [root]
  while (stack.length > 0 && summary.missing.length < maxMissing) {
    const cid = stack.pop() as CID
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    const size = await store.size(cid)
    if (size === undefined) {
      summary.missing.push(cid)
      continue
    }
    summary.blocks++
    summary.bytes += size
    if (cid.code === DAG_PB_CODEC) {
      const node = decodePb(await store.getBytes(cid))
      for (let i = node.Links.length - 1; i >= 0; i--) stack.push((node.Links[i] as { Hash: CID }).Hash)
    }
  }
  return summary
}

/**
 * Every block of a dag-pb/raw DAG held in the local store (a missing block's subtree is skipped
 * and `whole` is false).
 */
export async function dagCids(store: DurableBlockstore, root: CID): Promise<{ cids: string[]; whole: boolean }> {
  const cids: string[] = []
  const seen = new Set<string>()
  const stack: CID[] = [root]
  let whole = true
  while (stack.length > 0) {
    const cid = stack.pop() as CID
    const key = cid.toString()
    if (seen.has(key)) continue
    seen.add(key)
    if (!(await store.has(cid))) {
      whole = false
      continue
    }
    cids.push(key)
    if (cid.code === DAG_PB_CODEC) for (const link of decodePb(await store.getBytes(cid)).Links) stack.push(link.Hash)
  }
  return { cids, whole }
}
