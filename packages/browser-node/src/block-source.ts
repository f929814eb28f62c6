import type { CID } from 'multiformats/cid'

/** One provider's block session, over libp2p or HTTP: the pool treats both the same. */
export interface BlockSource {
  readonly provider: string
  readonly closed: boolean
  /** Asks for one block; resolves with its bytes (unverified: the pool checks them). */
  want(cid: CID): Promise<Uint8Array>
  /**
   * Drops a want the caller no longer needs (another provider sent the block first) and tells the
   * provider, so that a block it has not started sending is not sent at all. The want's promise
   * never settles afterwards.
   */
  cancel(cid: CID): void
  close(): void
}
