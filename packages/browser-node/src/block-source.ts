import type { CID } from 'multiformats/cid'

/** One provider's block session, over libp2p or HTTP: the pool treats both the same. */
export interface BlockSource {
  readonly provider: string
  readonly closed: boolean
  /** Bytes of blocks that arrived for no want (cancelled, or asked again of it and sent twice): sent for nothing. */
  readonly discardedBytes: number
  /** Asks for one block; resolves with its bytes (unverified: the pool checks them). */
  want(cid: CID): Promise<Uint8Array>
  /**
   * Tells the provider a want is no longer needed (another provider was asked too), so that a
   * block it has not started sending is not sent at all. A block already on its way still
   * resolves the want's promise; a block never sent leaves it pending until the session closes.
   */
  cancel(cid: CID): void
  close(): void
  /** Sends the last receipt (a paid ticket), then closes. */
  finish(): Promise<void>
}
