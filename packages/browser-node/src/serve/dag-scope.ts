import { decode as decodePb } from '@ipld/dag-pb'
import { DAG_PB_CODEC } from '@konbini/protocol'
import { CID } from 'multiformats/cid'
import type { ServedBlocks } from './block-exchange.ts'

/** Roots whose block sets are kept: a node serves a few roots at a time. */
const MAX_ROOTS = 32
/** A set is walked again when a block is asked for that it lacks, at most this often (ms): a DAG still arriving gains blocks. */
const REWALK_MS = 5000

interface Walked {
  members: Promise<Set<string>>
  at: number
}

/**
 * Which blocks belong to a root's DAG, as far as this node holds it: a download ticket names a
 * root, and serves only blocks under it. The set is walked once per root (reading only its
 * dag-pb nodes) and kept for the most recent roots.
 */
export class DagScope {
  private readonly blocks: ServedBlocks
  private readonly walked = new Map<string, Walked>()

  constructor(blocks: ServedBlocks) {
    this.blocks = blocks
  }

  /** Whether `cid` is `root` or a block under it that this node holds. */
  async contains(root: string, cid: CID): Promise<boolean> {
    const key = cid.toString()
    if (key === root) return true
    let entry = this.fresh(root)
    if ((await entry.members).has(key)) return true
    if (performance.now() - entry.at < REWALK_MS) return false
    this.walked.delete(root)
    entry = this.fresh(root)
    return (await entry.members).has(key)
  }

  private fresh(root: string): Walked {
    let entry = this.walked.get(root)
    if (entry === undefined) {
      entry = { members: this.walk(root), at: performance.now() }
      entry.members.catch(() => this.walked.delete(root))
      this.walked.set(root, entry)
      if (this.walked.size > MAX_ROOTS) this.walked.delete(this.walked.keys().next().value as string)
    } else {
      // most recently used last
      this.walked.delete(root)
      this.walked.set(root, entry)
    }
    return entry
  }

  private async walk(root: string): Promise<Set<string>> {
    const members = new Set<string>([root])
    const stack = [CID.parse(root)]
    while (stack.length > 0) {
      const cid = stack.pop() as CID
      if (cid.code !== DAG_PB_CODEC) continue
      const bytes = await this.blocks.getBytes(cid).catch(() => undefined)
      if (bytes === undefined) continue
      for (const link of decodePb(bytes).Links) {
        const child = link.Hash.toString()
        if (members.has(child)) continue
        members.add(child)
        stack.push(link.Hash)
      }
    }
    return members
  }
}
