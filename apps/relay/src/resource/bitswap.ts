import { withBitswap } from '@helia/bitswap'
import type { HeliaMixin } from '@helia/interface'
import type { Libp2p, Startable } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import type { DurableBlockstore } from './durable-blockstore.ts'
import type { RootAccess } from './root-access.ts'
import type { ByteRateLimiter } from '@konbini/browser-node'

/** Options of the Bitswap server. */
export interface BitswapInit {
  libp2p: Libp2p
  blockstore: DurableBlockstore
  /** Throttles the block bytes read for Bitswap peers (the public path's rate). */
  limiter?: ByteRateLimiter
  /** The operator's egress cap, when Bitswap traffic should count against it too. */
  egress?: ByteRateLimiter
  /** Which blocks are public here: any other block is answered as absent. */
  access?: RootAccess
}

/** Bitswap's ledger tells "I don't have it" from a real failure by this error name. */
class NotFoundError extends Error {
  override name = 'NotFoundError'
}

function unsupported(): never {
  throw new Error('This node has no content routing: it only serves its own blocks.')
}

/**
 * Serves this node's public blocks over Bitswap (`/ipfs/bitswap/1.2.0`) to stock IPFS peers: the
 * public, rate-limited path (blocks of private or denylisted roots are never sent). It is `@helia/bitswap` mounted on a minimal host instead of a Helia node, so
 * nothing else comes along: no routers, no gateways, no other block brokers. The host's block store
 * is read-only and local, and nobody calls `want()`, so the node never fetches from peers.
 *
 * @example
 * const bitswap = await startBitswap({ libp2p, blockstore, limiter: new ByteRateLimiter(10e6) })
 * await bitswap.stop()
 */
export async function startBitswap(init: BitswapInit): Promise<{ stop(): Promise<void> }> {
  const { blockstore, limiter, egress, access } = init
  // a private or denylisted block is, to a Bitswap peer, a block this node does not have
  const mayServe = (cid: CID) => access === undefined || access.isPublic(cid)
  const served = {
    has: async (cid: CID) => mayServe(cid) && (await blockstore.has(cid)),
    async *get(cid: CID) {
      if (!mayServe(cid)) throw new NotFoundError(`Block ${cid} is not served here.`)
      let bytes: Uint8Array
      try {
        bytes = await blockstore.getBytes(cid)
      } catch {
        throw new NotFoundError(`Block ${cid} is not stored here.`)
      }
      await egress?.take(bytes.byteLength)
      await limiter?.take(bytes.byteLength)
      yield bytes
    },
  }
  const routing = {
    provide: unsupported,
    cancelReprovide: unsupported,
    findProviders: unsupported,
    put: unsupported,
    get: unsupported,
    findPeer: unsupported,
    getClosestPeers: unsupported,
  }
  let mixin: HeliaMixin | undefined
  let broker: Partial<Startable> | undefined
  // what withBitswap's mixin reads from a Helia node, and nothing more
  const host = {
    status: 'starting',
    libp2p: init.libp2p,
    logger: init.libp2p.logger,
    blockstore: served,
    routing,
    getHasher: async (code: number) => {
      if (code === sha256.code) return sha256
      throw new Error(`Hash 0x${code.toString(16)} is not supported.`)
    },
    hasBlockBroker: () => broker !== undefined,
    addBlockBroker: (b: Partial<Startable>) => {
      broker = b
    },
    addMixin: (m: HeliaMixin) => {
      mixin = m
    },
  }
  withBitswap(host as unknown as Parameters<typeof withBitswap>[0])
  await mixin?.start?.(host as never)
  if (broker?.stop === undefined) throw new Error('@helia/bitswap did not provide a block broker.')
  const started = broker
  return {
    async stop() {
      await started.stop?.()
    },
  }
}
