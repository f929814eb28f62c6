import { BLOCKS_PROTOCOL, type DownloadTicket, FrameKind, InvalidMessageError, TicketMissingError, toWireError } from '@konbini/protocol'
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
  try {
    for await (const frame of readFrames(stream)) {
      if (ticket === undefined) {
        if (frame.kind !== FrameKind.Hello) throw new TicketMissingError()
        ticket = await init.tickets.verify(frame.json)
        signature = (frame.json as { signature: string }).signature
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
      for (const cid of frame.cids) {
        const bytes = await init.blocks.getBytes(cid).catch(() => undefined)
        if (bytes === undefined) {
          await sendFrame(stream, { kind: FrameKind.DontHave, cid })
          continue
        }
        init.beforeSend?.(cid, bytes.byteLength)
        init.tickets.charge(ticket, signature, bytes.byteLength)
        await init.egress.take(bytes.byteLength)
        await sendFrame(stream, { kind: FrameKind.Block, cid, bytes })
        init.onServed?.(bytes.byteLength, remotePeer)
      }
    }
    await stream.close().catch(() => {})
  } catch (err) {
    const { body } = toWireError(err)
    init.onRefused?.(body.error.name)
    await sendFrame(stream, { kind: FrameKind.Error, error: body.error }).catch(() => {})
    await stream.close().catch(() => stream.abort(err as Error))
  }
}
