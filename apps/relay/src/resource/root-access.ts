import { ContentDeniedError, NotPublicError } from '@konbini/protocol'
import { CID } from 'multiformats/cid'
import { dagCids } from './dag-walk.ts'
import type { DurableBlockstore } from './durable-blockstore.ts'

/** What the meta node's heartbeat answer says a full node may serve without a ticket. */
export interface RootLists {
  /** Public, non-denylisted roots this node holds. */
  publicRoots?: readonly string[] | undefined
  /** Roots no node may serve, on any path. */
  denylist?: readonly string[] | undefined
}

/**
 * Which blocks a full node serves on its public path (gateway, Bitswap) and which it refuses on
 * every path. A block is public only as part of a root the meta node listed as public and held
 * here — so a stranger who knows the CID of someone's private file, or of one of its blocks, gets
 * nothing without a ticket. A denylisted root's blocks (those held here) are refused everywhere.
 * The lists arrive with each heartbeat answer; DAGs are walked in the local store once per root.
 */
export class RootAccess {
  private readonly store: DurableBlockstore
  /** Public root → the blocks of its DAG held here. */
  private readonly publicRoots = new Map<string, readonly string[]>()
  /** Block → how many public roots contain it. */
  private readonly publicBlocks = new Map<string, number>()
  /** Denied root → the blocks of its DAG held here when it was denied. */
  private readonly deniedRoots = new Map<string, readonly string[]>()
  private deniedBlocks = new Set<string>()
  private applying: Promise<void> = Promise.resolve()

  constructor(store: DurableBlockstore) {
    this.store = store
  }

  /** Takes the meta node's latest lists (calls are serialized; a partial DAG is retried next time). */
  apply(lists: RootLists): Promise<void> {
    this.applying = this.applying.then(() => this.applyNow(lists)).catch(() => {})
    return this.applying
  }

  private async applyNow({ publicRoots, denylist }: RootLists): Promise<void> {
    if (denylist !== undefined) {
      // walk only roots new to the list: the same list arrives with every heartbeat
      const roots = new Set(denylist)
      let changed = false
      for (const root of [...this.deniedRoots.keys()]) if (!roots.has(root)) changed = this.deniedRoots.delete(root)
      for (const root of roots) {
        if (this.deniedRoots.has(root)) continue
        this.deniedRoots.set(root, (await this.walk(root))?.cids ?? [])
        changed = true
      }
      if (changed) {
        const blocks = new Set<string>(roots)
        for (const cids of this.deniedRoots.values()) for (const cid of cids) blocks.add(cid)
        this.deniedBlocks = blocks
      }
    }
    if (publicRoots === undefined) return
    const listed = new Set(publicRoots)
    for (const root of [...this.publicRoots.keys()]) if (!listed.has(root)) this.forgetPublic(root)
    for (const root of listed) {
      if (this.publicRoots.has(root)) continue
      const walked = await this.walk(root)
      // not whole here yet (a replica still arriving): try again at the next heartbeat
      if (walked === undefined || !walked.whole) continue
      this.publicRoots.set(root, walked.cids)
      for (const cid of walked.cids) this.publicBlocks.set(cid, (this.publicBlocks.get(cid) ?? 0) + 1)
    }
  }

  private forgetPublic(root: string): void {
    for (const cid of this.publicRoots.get(root) ?? []) {
      const left = (this.publicBlocks.get(cid) ?? 1) - 1
      if (left > 0) this.publicBlocks.set(cid, left)
      else this.publicBlocks.delete(cid)
    }
    this.publicRoots.delete(root)
  }

  private async walk(root: string): Promise<{ cids: string[]; whole: boolean } | undefined> {
    let cid: CID
    try {
      cid = CID.parse(root)
    } catch {
      return undefined
    }
    return dagCids(this.store, cid)
  }

  /** Whether a block is denied (a denylisted root, or a block of one held here). */
  isDenied(cid: CID | string): boolean {
    return this.deniedBlocks.has(cid.toString())
  }

  /** Whether the public path (gateway, Bitswap) may serve this block. */
  isPublic(cid: CID | string): boolean {
    const key = cid.toString()
    return this.publicBlocks.has(key) && !this.deniedBlocks.has(key)
  }

  /** Throws unless the public path may serve this block: 451 when denied, 403 when not public. */
  assertPublic(cid: CID | string): void {
    this.assertNotDenied(cid)
    if (!this.isPublic(cid)) throw new NotPublicError({ cid: cid.toString() })
  }

  /** Throws ContentDeniedError (451) for a denied block or root. */
  assertNotDenied(cid: CID | string): void {
    if (this.isDenied(cid)) throw new ContentDeniedError({ cid: cid.toString() })
  }
}
