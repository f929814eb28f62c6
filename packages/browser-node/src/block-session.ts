import {
  BLOCKS_PROTOCOL,
  BlockNotFoundError,
  FrameKind,
  MAX_WANTLIST_SIZE,
  ProviderFailedError,
  RemoteError,
  type NodeEndpoint,
  type SignedDownloadTicket,
  type SignedReceipt,
} from '@konbini/protocol'
import type { Libp2p, Stream } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from './block-source.ts'
import { readFrames, sendFrame } from './frame-stream.ts'
import type { ReceiptSigner } from './receipt-signer.ts'

interface Waiter {
  resolve(bytes: Uint8Array): void
  reject(err: Error): void
}

/** Opens a `/konbini/blocks/1.0.0` stream to a provider some other way than a plain dial (e.g. a direct WebRTC connection to a tab). */
export type OpenStream = (endpoint: NodeEndpoint, signal: AbortSignal) => Promise<Stream>

/**
 * One `/konbini/blocks/1.0.0` session with one provider: wants made in the same tick are
 * batched into one want-list; blocks stream back in order.
 */
export class BlockSession implements BlockSource {
  readonly provider: string
  private readonly stream: Stream
  private readonly waiting = new Map<string, Waiter[]>()
  private batch: CID[] = []
  private cancels: CID[] = []
  private receiptsDue: SignedReceipt[] = []
  /** The bytes of the newest receipt queued for the provider. */
  private sentReceiptBytes = 0
  private readonly receipts: ReceiptSigner | undefined
  /** Wants cancelled at the provider whose block may still come: asked again, they need a new Want. */
  private readonly cancelled = new Set<string>()
  private flushing: Promise<void> | undefined
  private closedWith: Error | undefined
  discardedBytes = 0

  private constructor(provider: string, stream: Stream, receipts: ReceiptSigner | undefined) {
    this.provider = provider
    this.stream = stream
    this.receipts = receipts
  }

  /** Dials the provider, opens a session under the download ticket and starts reading. */
  static async open(
    libp2p: Libp2p,
    endpoint: NodeEndpoint,
    ticket: SignedDownloadTicket,
    signal?: AbortSignal,
    openStream?: OpenStream,
    receipts?: ReceiptSigner,
  ): Promise<BlockSession> {
    const addrs = endpoint.multiaddrs.map((a) => multiaddr(a.includes('/p2p/') ? a : `${a}/p2p/${endpoint.peerId}`))
    // generous: a WebRTC dial on a loaded machine takes seconds, and the pool serves from other providers meanwhile
    const timeout = signal ?? AbortSignal.timeout(30_000)
    const stream = openStream ? await openStream(endpoint, timeout) : await libp2p.dialProtocol(addrs, BLOCKS_PROTOCOL, { signal: timeout })
    const session = new BlockSession(endpoint.peerId, stream, receipts)
    await sendFrame(stream, { kind: FrameKind.Hello, json: ticket })
    void session.readLoop()
    return session
  }

  get closed(): boolean {
    return this.closedWith !== undefined
  }

  /** Asks for one block; resolves with its bytes (unverified: the caller checks them against the CID). */
  want(cid: CID): Promise<Uint8Array> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    return new Promise((resolve, reject) => {
      const key = cid.toString()
      const list = this.waiting.get(key)
      // asked again after a cancel: the earlier waiters are dropped (their caller gave them up),
      // so one block settles one want, and a new Want goes out (the provider dropped the old one)
      if (list && !this.cancelled.delete(key)) {
        list.push({ resolve, reject })
        return
      }
      this.waiting.set(key, [{ resolve, reject }])
      this.batch.push(cid)
      this.scheduleFlush()
    })
  }

  cancel(cid: CID): void {
    const key = cid.toString()
    if (!this.waiting.has(key) || this.closedWith) return
    const queued = this.batch.findIndex((c) => c.equals(cid))
    if (queued >= 0) {
      // not sent yet: simply not asked
      this.batch.splice(queued, 1)
      this.waiting.delete(key)
      return
    }
    // the provider may have started sending it: its waiters stay, so a block already on the way still reaches the caller
    this.cancelled.add(key)
    this.cancels.push(cid)
    this.scheduleFlush()
  }

  private scheduleFlush(): void {
    this.flushing ??= new Promise<void>((resolve) => queueMicrotask(resolve)).then(() => this.flush())
  }

  close(): void {
    this.fail(new ProviderFailedError({ provider: this.provider, reason: 'session closed' }))
  }

  async finish(): Promise<void> {
    // the last receipt: signed here, or already by the download (`ReceiptSigner.finalAll`)
    const last = this.closedWith ? undefined : await this.receipts?.last(this.provider)
    if (last !== undefined && last.receipt.bytes > this.sentReceiptBytes) this.send(last)
    await this.flushing
    if (!this.closedWith) await this.stream.close().catch(() => {})
    this.close()
  }

  private send(receipt: SignedReceipt): void {
    if (this.closedWith) return
    this.sentReceiptBytes = Math.max(this.sentReceiptBytes, receipt.receipt.bytes)
    this.receiptsDue.push(receipt)
    this.scheduleFlush()
  }

  private async flush(): Promise<void> {
    try {
      while (this.batch.length > 0 || this.cancels.length > 0 || this.receiptsDue.length > 0) {
        // receipts, then cancels, first: the provider may be waiting for a receipt, or about to send a cancelled block
        const receipt = this.receiptsDue.shift()
        if (receipt) await sendFrame(this.stream, { kind: FrameKind.Receipt, json: receipt })
        else if (this.cancels.length > 0) await sendFrame(this.stream, { kind: FrameKind.Cancel, cids: this.cancels.splice(0, MAX_WANTLIST_SIZE) })
        else await sendFrame(this.stream, { kind: FrameKind.Want, cids: this.batch.splice(0, MAX_WANTLIST_SIZE) })
      }
    } catch (err) {
      this.fail(new ProviderFailedError({ provider: this.provider, reason: (err as Error).message }))
    } finally {
      this.flushing = undefined
    }
  }

  private settle(cid: CID, outcome: { bytes: Uint8Array } | { error: Error }): void {
    const key = cid.toString()
    const list = this.waiting.get(key)
    if (!list) return
    this.waiting.delete(key)
    this.cancelled.delete(key)
    for (const w of list) 'bytes' in outcome ? w.resolve(outcome.bytes) : w.reject(outcome.error)
  }

  private received(cid: CID, bytes: Uint8Array): void {
    const due = this.receipts?.add(this.provider, bytes.byteLength)
    if (due)
      due.then(
        (r) => this.send(r),
        (err: Error) => this.fail(err),
      )
    // no one waits for it: it was cancelled, or asked again and sent twice
    if (!this.waiting.has(cid.toString())) this.discardedBytes += bytes.byteLength
    this.settle(cid, { bytes })
  }

  private async readLoop(): Promise<void> {
    try {
      for await (const frame of readFrames(this.stream)) {
        if (frame.kind === FrameKind.Block) this.received(frame.cid, frame.bytes)
        else if (frame.kind === FrameKind.DontHave) this.settle(frame.cid, { error: new BlockNotFoundError({ cid: frame.cid.toString() }) })
        else if (frame.kind === FrameKind.Error) throw new RemoteError(frame.error.name, frame.error.message, 502)
      }
      this.fail(new ProviderFailedError({ provider: this.provider, reason: 'the provider ended the session' }))
    } catch (err) {
      this.fail(err instanceof RemoteError ? err : new ProviderFailedError({ provider: this.provider, reason: (err as Error).message }))
    }
  }

  private fail(err: Error): void {
    if (this.closedWith) return
    this.closedWith = err
    for (const list of this.waiting.values()) for (const w of list) w.reject(err)
    this.waiting.clear()
    this.stream.abort(err)
  }
}
