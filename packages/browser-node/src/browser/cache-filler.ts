import type { CacheAssignment } from '@konbini/protocol'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import { copyDag } from '../copy-dag.ts'
import type { MetaClient } from '../meta-client.ts'
import { ProviderPool } from '../provider-pool.ts'
import type { BlockCache } from './block-cache.ts'

export interface FillCacheInit {
  meta: MetaClient
  libp2p: Libp2p
  cache: BlockCache
  assignment: CacheAssignment
  /** The donor's operator address: the download ticket's consumer. */
  consumer: string
  signal?: AbortSignal
}

/**
 * Copies a public root the meta node assigned into the tab's cache, from full nodes over HTTP,
 * every block verified, then marks it held so the next heartbeat announces it.
 */
export async function fillCache(init: FillCacheInit): Promise<void> {
  const { root } = init.assignment
  const answer = await init.meta.post('providers', { root, consumer: init.consumer })
  const providers = answer.providers.filter((p) => p.httpUrl !== undefined)
  const pool = new ProviderPool({
    libp2p: init.libp2p,
    ticket: answer.download,
    providers,
    // a large fill outlives a ticket: it goes on under a new one for the same full nodes
    renewTicket: async () => ({
      ticket: (await init.meta.post('providers', { root, consumer: init.consumer, providers: providers.map((p) => p.peerId) })).download,
    }),
  })
  try {
    const copied = await copyDag(CID.parse(root), {
      get: (cid) => pool.get(cid),
      put: (blocks) => init.cache.putBlocks(blocks.map((b) => ({ cid: b.cid.toString(), bytes: b.bytes }))),
      concurrency: 16,
      ...(init.signal !== undefined && { signal: init.signal }),
    })
    await init.cache.addRoot({ root, cids: copied.cids, bytes: copied.bytes, addedAt: Date.now() })
  } finally {
    pool.close()
  }
}
