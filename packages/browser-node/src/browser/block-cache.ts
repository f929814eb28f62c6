import type { CID } from 'multiformats/cid'
import type { ServedBlocks } from '../serve/block-exchange.ts'
import { committed, settle } from './idb.ts'

/** What the cache knows of one root it holds whole. */
export interface CachedRoot {
  root: string
  /** Every block of the DAG, the root included. */
  cids: string[]
  bytes: number
  addedAt: number
}

/**
 * A donor tab's block cache in IndexedDB: blocks by CID, plus which roots are held whole (what
 * the tab announces) and their blocks, so a root can be dropped (denylist, storage cap) without
 * touching blocks another root still uses. Blocks of a denied root are never served.
 */
export class BlockCache implements ServedBlocks {
  private readonly db: IDBDatabase
  private readonly held = new Map<string, CachedRoot>()
  private readonly denied = new Set<string>()

  private constructor(db: IDBDatabase) {
    this.db = db
  }

  static async open(db: IDBDatabase): Promise<BlockCache> {
    const cache = new BlockCache(db)
    const roots = await settle(db.transaction('roots').objectStore('roots').getAll())
    for (const r of roots as CachedRoot[]) cache.held.set(r.root, r)
    return cache
  }

  /** Bytes of the roots held whole. */
  get usedBytes(): number {
    let total = 0
    for (const r of this.held.values()) total += r.bytes
    return total
  }

  roots(): string[] {
    return [...this.held.keys()]
  }

  has(root: string): boolean {
    return this.held.has(root)
  }

  async getBytes(cid: CID): Promise<Uint8Array | undefined> {
    const key = cid.toString()
    if (this.denied.has(key)) return undefined
    const value = await settle(this.db.transaction('blocks').objectStore('blocks').get(key))
    return value instanceof Uint8Array ? value : undefined
  }

  async putBlocks(blocks: ReadonlyArray<{ cid: string; bytes: Uint8Array }>): Promise<void> {
    const tx = this.db.transaction('blocks', 'readwrite')
    const store = tx.objectStore('blocks')
    for (const { cid, bytes } of blocks) store.put(bytes, cid)
    await committed(tx)
  }

  /** Marks a root held whole once all its blocks are stored. */
  async addRoot(root: CachedRoot): Promise<void> {
    const tx = this.db.transaction('roots', 'readwrite')
    tx.objectStore('roots').put(root, root.root)
    await committed(tx)
    this.held.set(root.root, root)
  }

  /** Drops a root and the blocks no other held root uses. */
  async removeRoot(root: string): Promise<void> {
    const entry = this.held.get(root)
    if (entry === undefined) return
    this.held.delete(root)
    const stillUsed = new Set<string>()
    for (const other of this.held.values()) for (const cid of other.cids) stillUsed.add(cid)
    const tx = this.db.transaction(['roots', 'blocks'], 'readwrite')
    tx.objectStore('roots').delete(root)
    for (const cid of entry.cids) if (!stillUsed.has(cid)) tx.objectStore('blocks').delete(cid)
    await committed(tx)
  }

  /** Applies the meta node's denylist: denied roots are dropped and their blocks refused from now on. */
  async applyDenylist(roots: readonly string[]): Promise<void> {
    for (const root of roots) {
      this.denied.add(root)
      const entry = this.held.get(root)
      if (entry === undefined) continue
      for (const cid of entry.cids) this.denied.add(cid)
      await this.removeRoot(root)
    }
  }

  isDenied(root: string): boolean {
    return this.denied.has(root)
  }
}
