import {
  BlockNotFoundError,
  decodeFrame,
  FrameKind,
  FrameReader,
  type NodeEndpoint,
  ProviderFailedError,
  RemoteError,
  type SignedDownloadTicket,
  RECEIPT_HEADER,
  type SignedReceipt,
  TICKET_HEADER,
} from '@konbini/protocol'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from './block-source.ts'
import { base64urlJson } from './encoding.ts'
import type { ReceiptSigner } from './receipt-signer.ts'

/** Where a full node takes the receipts of its HTTP block exchange. */
const RECEIPTS_PATH = '/v1/blocks/receipts'

/** Wants per `POST /v1/blocks`. */
const WANTS_PER_REQUEST = 1

/**
 * How long a signed receipt waits for the next want request to this node to ride on (ms) before
 * it goes in a request of its own: wants flow every few ms while the node serves, and a node
 * that holds back blocks for receipts gets no new wants.
 */
const RECEIPT_RIDE_WAIT_MS = 50

interface Waiter {
  promise: Promise<Uint8Array>
  resolve(bytes: Uint8Array): void
  reject(err: Error): void
  request?: Request
}

/** One `POST /v1/blocks` in flight: the wants it carries that are still pending. */
interface Request {
  pending: Set<string>
  controller: AbortController
}

/**
 * The block exchange over plain HTTP to a full node (`POST /v1/blocks` under the download ticket):
 * each want is one request whose answer streams its Block/DontHave frame. Same frames and
 * checks as the libp2p path, without Noise in the way of bulk bytes. Cancelling every want still
 * pending in a request aborts it: the node stops before sending them.
 */
export class HttpBlockSession implements BlockSource {
  readonly provider: string
  private readonly url: URL
  private readonly ticketHeader: string
  private readonly waiting = new Map<string, Waiter>()
  private batch: CID[] = []
  private scheduled = false
  private closedWith: Error | undefined
  discardedBytes = 0
  private readonly requests = new Set<Request>()
  private readonly receipts: ReceiptSigner | undefined
  private readonly receiptsUrl: URL
  /** The newest receipt signed for this node and not yet sent, waiting for a want request to ride on. */
  private riding: SignedReceipt | undefined
  private rideTimer: ReturnType<typeof setTimeout> | undefined
  /** The newest receipt signed for this node, and the bytes of the newest one it answered (took). */
  private newest: SignedReceipt | undefined
  private delivered = 0
  /**
   * Receipt posts in flight. Each goes at once, not behind the previous one: a queue of posts
   * (each a round trip) made the node hold back blocks for receipts already signed. Order does
   * not matter: receipts are cumulative, and the node ignores one that covers no more than it has.
   */
  private readonly posting = new Set<Promise<void>>()

  constructor(endpoint: NodeEndpoint, ticket: SignedDownloadTicket, receipts?: ReceiptSigner) {
    this.provider = endpoint.peerId
    this.url = new URL('/v1/blocks', endpoint.httpUrl)
    this.receiptsUrl = new URL(RECEIPTS_PATH, endpoint.httpUrl)
    this.ticketHeader = base64urlJson(ticket)
    this.receipts = receipts
  }

  get closed(): boolean {
    return this.closedWith !== undefined
  }

  want(cid: CID): Promise<Uint8Array> {
    if (this.closedWith) return Promise.reject(this.closedWith)
    // asked again while still pending: join, do not fetch twice; after a cancel, the earlier
    // waiter is dropped (its caller gave it up) and the block is asked again
    const pending = this.waiting.get(cid.toString())
    if (pending && (pending.request === undefined || pending.request.pending.has(cid.toString()))) return pending.promise
    const waiter = Promise.withResolvers<Uint8Array>()
    this.waiting.set(cid.toString(), waiter)
    this.batch.push(cid)
    if (!this.scheduled) {
      this.scheduled = true
      // wants made in the same turn of the event loop go as one request
      setTimeout(() => this.flush(), 0)
    }
    return waiter.promise
  }

  cancel(cid: CID): void {
    const key = cid.toString()
    const waiter = this.waiting.get(key)
    if (waiter === undefined) return
    const { request } = waiter
    if (request === undefined) {
      // not sent yet
      this.waiting.delete(key)
      this.batch = this.batch.filter((c) => c.toString() !== key)
      return
    }
    // its waiter stays while the request runs: a block already on the way still reaches the caller
    request.pending.delete(key)
    if (request.pending.size > 0) return
    // nothing in this request is wanted any more: the node stops before sending the rest
    request.controller.abort()
    for (const [k, w] of this.waiting) if (w.request === request) this.waiting.delete(k)
  }

  close(): void {
    clearTimeout(this.rideTimer)
    this.fail(new ProviderFailedError({ provider: this.provider, reason: 'session closed' }))
    for (const r of this.requests) r.controller.abort()
  }

  /** Hands the node the receipt for everything it sent (unless it already took one that covers it), then closes. */
  async finish(): Promise<void> {
    // the last receipt: signed here, or already by the download (`ReceiptSigner.finalAll`)
    const last = await this.receipts?.last(this.provider)
    if (last !== undefined && last.receipt.bytes > (this.newest?.receipt.bytes ?? 0)) this.newest = last
    clearTimeout(this.rideTimer)
    this.riding = undefined
    // a receipt that rode a request the node never answered (aborted, failed) is sent again
    if (this.newest !== undefined && this.newest.receipt.bytes > this.delivered) this.send(this.newest)
    await Promise.all(this.posting)
    this.close()
  }

  /** Counts a block's bytes toward the next receipt; a receipt due rides the next want request. */
  private count(bytes: number): void {
    const due = this.receipts?.add(this.provider, bytes)
    if (due)
      due.then(
        (r) => this.ride(r),
        (err: Error) => this.fail(err),
      )
  }

  private ride(receipt: SignedReceipt): void {
    if (receipt.receipt.bytes <= (this.newest?.receipt.bytes ?? 0)) return
    this.newest = receipt
    this.riding = receipt
    this.rideTimer ??= setTimeout(() => {
      this.rideTimer = undefined
      const alone = this.takeRiding()
      if (alone !== undefined && !this.closed) this.send(alone)
    }, RECEIPT_RIDE_WAIT_MS)
  }

  private takeRiding(): SignedReceipt | undefined {
    const receipt = this.riding
    this.riding = undefined
    return receipt
  }

  private took(receipt: SignedReceipt): void {
    this.delivered = Math.max(this.delivered, receipt.receipt.bytes)
  }

  /** Posts a receipt on its own (`POST /v1/blocks/receipts`). */
  private send(receipt: SignedReceipt): void {
    const post = (async () => {
      // a lost receipt is covered by the next one (cumulative); the node waits for it meanwhile
      const res = await fetch(this.receiptsUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ receipts: [receipt] }),
      }).catch(() => undefined)
      if (res?.ok) this.took(receipt)
      await res?.body?.cancel().catch(() => {})
    })()
    this.posting.add(post)
    void post.finally(() => this.posting.delete(post))
  }

  private flush(): void {
    this.scheduled = false
    while (this.batch.length > 0) {
      // one request per want: a cancel then aborts exactly that block, before the node sends it
      // (the pool keeps few wants in flight per provider, so requests stay few)
      const cids = this.batch.splice(0, WANTS_PER_REQUEST)
      const request: Request = { pending: new Set(cids.map(String)), controller: new AbortController() }
      for (const cid of cids) {
        const waiter = this.waiting.get(cid.toString())
        if (waiter) waiter.request = request
      }
      this.requests.add(request)
      this.request(cids, request)
        .catch((err: Error) => {
          // cancelled by the caller: nothing left to answer
          if (request.controller.signal.aborted && request.pending.size === 0) return
          // the provider is unreachable or broke the stream: everything asked of it fails over
          this.fail(err instanceof RemoteError ? err : new ProviderFailedError({ provider: this.provider, reason: err.message }))
        })
        .finally(() => this.requests.delete(request))
    }
  }

  private async request(cids: CID[], request: Request): Promise<void> {
    const headers: Record<string, string> = { 'content-type': 'application/json', [TICKET_HEADER]: this.ticketHeader }
    const receipt = this.takeRiding()
    if (receipt !== undefined) headers[RECEIPT_HEADER] = base64urlJson(receipt)
    const res = await fetch(this.url, { method: 'POST', headers, body: JSON.stringify({ cids: cids.map(String) }), signal: request.controller.signal })
    if (receipt !== undefined && res.ok) this.took(receipt)
    if (!res.ok || res.body === null) {
      const answer = (await res.json().catch(() => undefined)) as { error?: { name: string; message: string } } | undefined
      throw new RemoteError(answer?.error?.name ?? 'ProviderFailedError', answer?.error?.message ?? `provider answered ${res.status}`, res.status)
    }
    const reader = new FrameReader()
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      for (const body of reader.push(chunk)) {
        const frame = decodeFrame(body)
        if (frame.kind === FrameKind.Block) {
          this.count(frame.bytes.byteLength)
          this.settle(frame.cid, frame.bytes, request)
        } else if (frame.kind === FrameKind.DontHave) this.settle(frame.cid, new BlockNotFoundError({ cid: frame.cid.toString() }), request)
        else if (frame.kind === FrameKind.Error) throw new RemoteError(frame.error.name, frame.error.message, 502)
      }
    }
    // anything this request asked for and did not get fails over to other providers
    if (request.pending.size > 0) {
      const err = new ProviderFailedError({ provider: this.provider, reason: 'the answer ended early' })
      for (const key of [...request.pending]) this.settle(key, err, request)
    }
  }

  private settle(cid: CID | string, outcome: Uint8Array | Error, request: Request): void {
    const key = cid.toString()
    request.pending.delete(key)
    const waiter = this.waiting.get(key)
    if (waiter === undefined || waiter.request !== request) {
      if (outcome instanceof Uint8Array) this.discardedBytes += outcome.byteLength
      return
    }
    this.waiting.delete(key)
    outcome instanceof Error ? waiter.reject(outcome) : waiter.resolve(outcome)
  }

  private fail(err: Error): void {
    if (this.closedWith) return
    this.closedWith = err
    for (const w of this.waiting.values()) w.reject(err)
    this.waiting.clear()
  }
}
