import { BLOCKS_PROTOCOL, type DownloadTicket, FrameKind, InvalidMessageError, MAX_QUEUED_WANTS, TicketMissingError, toWireError } from '@konbini/protocol'
import type { Libp2p, Stream } from '@libp2p/interface'
import type { CID } from 'multiformats/cid'
import { readFrames, sendFrame } from '../frame-stream.ts'
import type { ByteRateLimiter } from './byte-rate-limiter.ts'
import type { DownloadTickets } from './download-tickets.ts'

/** Where served blocks come from: a full node's durable store or a tab's IndexedDB cache. */
export interface ServedBlocks {
  /** The block's bytes, or undefined when this node does not hold it. */
  getBytes(cid: CID): Promise<Uint8Array | undefined>
}

export interface BlockExchangeServerInit {
  libp2p: Pick<Libp2p, 'handle'>
  blocks: ServedBlocks
  /** The operator's egress cap, shared by every path that sends bytes. */
  egress: ByteRateLimiter
  tickets: DownloadTickets
  /** Most CIDs per second one session may ask for (want-list rate limit). */
  wantsPerSecond?: number
  /** Called before each block is sent: throw (a named error) to refuse it, e.g. a donor's spent daily cap. */
  beforeSend?: (cid: CID, bytes: number) => void
  onServed?: (bytes: number, remotePeer: string) => void
  onRefused?: (errorName: string) => void
  onThrottled?: () => void
  onTransfer?: (delta: 1 | -1) => void
  onSessionError?: (err: unknown) => void
  /** Serve on limited (relayed) connections too; light peers serve only on direct ones. Default true. */
  runOnLimitedConnection?: boolean
}

/**
 * Serves `/konbini/blocks/1.0.0`: a session opens with a signed download ticket (Hello), then
 * batched want-lists are answered with a stream of blocks (or DontHave), in order, with backpressure.
 * Full nodes and light peers (browser tabs) run the same server.
 */
export async function serveBlockExchange(init: BlockExchangeServerInit): Promise<void> {
  await init.libp2p.handle(
    BLOCKS_PROTOCOL,
    (stream, connection) => {
      init.onTransfer?.(1)
      session(stream, connection.remotePeer.toString(), init)
        .catch((err) => init.onSessionError?.(err))
        .finally(() => init.onTransfer?.(-1))
    },
    { maxInboundStreams: 256, maxOutboundStreams: 16, runOnLimitedConnection: init.runOnLimitedConnection ?? true },
  )
}

async function session(stream: Stream, remotePeer: string, init: BlockExchangeServerInit): Promise<void> {
  const wantsPerSecond = init.wantsPerSecond ?? 4096
  let ticket: DownloadTicket | undefined
  let signature = ''
  let windowStart = performance.now()
  let wantsInWindow = 0
  // wants in arrival order; a Cancel takes a want out before it is sent
  const queue = new Map<string, CID>()
  let wake: (() => void) | undefined
  let ended = false
  const gone = new AbortController()
  // the next block is read from the store while the current one is sent (an IndexedDB read in a
  // tab takes tens of ms: serial reads would leave the channel idle between blocks)
  let readAhead: { key: string; bytes: Promise<Uint8Array | undefined> } | undefined
  const read = (key: string, cid: CID) => {
    const bytes = readAhead?.key === key ? readAhead.bytes : init.blocks.getBytes(cid).catch(() => undefined)
    readAhead = undefined
    return bytes
  }
  const readNext = () => {
    const iterator = queue.entries()
    iterator.next()
    const next = iterator.next()
    if (!next.done && readAhead === undefined) {
      const [key, cid] = next.value
      readAhead = { key, bytes: init.blocks.getBytes(cid).catch(() => undefined) }
    }
  }
  const sender = (async () => {
    for (;;) {
      const next = queue.entries().next()
      if (next.done) {
        if (ended) return
        await new Promise<void>((resolve) => {
          wake = resolve
        })
        continue
      }
      const [key, cid] = next.value
      // a ticket serves its root's DAG and nothing else
      await init.tickets.assertInRoot(ticket as DownloadTicket, cid)
      const bytes = await read(key, cid)
      if (!queue.has(key)) continue
      readNext()
      if (bytes === undefined) {
        queue.delete(key)
        await sendFrame(stream, { kind: FrameKind.DontHave, cid })
        continue
      }
      init.beforeSend?.(cid, bytes.byteLength)
      // a paid ticket's consumer must keep up with its receipts
      await init.tickets.awaitReceiptRoom(ticket as DownloadTicket, bytes.byteLength, gone.signal)
      if (!queue.has(key)) continue
      await init.egress.take(bytes.byteLength)
      // cancelled while it waited for the egress cap: not sent, not charged
      if (!queue.delete(key)) continue
      init.tickets.charge(ticket as DownloadTicket, signature, bytes.byteLength)
      await sendFrame(stream, { kind: FrameKind.Block, cid, bytes })
      init.onServed?.(bytes.byteLength, remotePeer)
    }
  })()
  const notify = () => {
    wake?.()
    wake = undefined
  }
  // the reader ends the session on a bad frame; the sender on a refused block or a broken stream
  const reader = (async () => {
    try {
      for await (const frame of readFrames(stream)) {
        if (ticket === undefined) {
          if (frame.kind !== FrameKind.Hello) throw new TicketMissingError()
          ticket = await init.tickets.verify(frame.json)
          signature = (frame.json as { signature: string }).signature
          continue
        }
        if (frame.kind === FrameKind.Receipt) {
          await init.tickets.acceptReceipt(frame.json)
          continue
        }
        if (frame.kind === FrameKind.Cancel) {
          for (const cid of frame.cids) queue.delete(cid.toString())
          continue
        }
        if (frame.kind !== FrameKind.Want) throw new InvalidMessageError({ reason: 'expected a want-list' })
        // want-list rate limit: delay, do not fail, a client that asks too fast
        wantsInWindow += frame.cids.length
        const elapsed = performance.now() - windowStart
        if (elapsed > 1000) {
          windowStart = performance.now()
          wantsInWindow = frame.cids.length
        } else if (wantsInWindow > wantsPerSecond) {
          init.onThrottled?.()
          await new Promise((r) => setTimeout(r, 1000 - elapsed))
        }
        for (const cid of frame.cids) queue.set(cid.toString(), cid)
        if (queue.size > MAX_QUEUED_WANTS) throw new InvalidMessageError({ reason: `more than ${MAX_QUEUED_WANTS} wants waiting` })
        notify()
      }
    } finally {
      ended = true
      gone.abort()
      notify()
    }
  })()
  try {
    await Promise.all([reader, sender])
    await stream.close().catch(() => {})
  } catch (err) {
    queue.clear()
    ended = true
    notify()
    const { body } = toWireError(err)
    init.onRefused?.(body.error.name)
    await sendFrame(stream, { kind: FrameKind.Error, error: body.error }).catch(() => {})
    await stream.close().catch(() => stream.abort(err as Error))
  }
}
