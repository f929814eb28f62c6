import { BLOCKS_PROTOCOL, type DownloadTicket, FrameKind, InvalidMessageError, TicketMissingError, toWireError } from '@konbini/protocol'
import { readFrames, sendFrame } from '@konbini/browser-node'
import type { Stream } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import type { Logger } from 'pino'
import type { Metrics } from '../http/metrics.ts'
import type { DurableBlockstore } from './durable-blockstore.ts'
import type { ByteRateLimiter } from './egress.ts'
import type { DownloadTickets } from './download-tickets.ts'

export interface BlockExchangeServerInit {
  libp2p: Libp2p
  blockstore: DurableBlockstore
  /** The operator's egress cap, shared by every path that sends bytes. */
  egress: ByteRateLimiter
  tickets: DownloadTickets
  metrics: Metrics
  log: Logger
  /** Most CIDs per second one session may ask for (want-list rate limit). */
  wantsPerSecond?: number
  onTransfer?: (delta: 1 | -1) => void
}

/**
 * Serves `/konbini/blocks/1.0.0`: a session opens with a signed download ticket (Hello), then
 * batched want-lists are answered with a stream of blocks (or DontHave), in order, with backpressure.
 */
export async function serveBlockExchange(init: BlockExchangeServerInit): Promise<void> {
  await init.libp2p.handle(
    BLOCKS_PROTOCOL,
    (stream) => {
      init.onTransfer?.(1)
      session(stream, init)
        .catch((err) => init.log.debug({ err }, 'block session ended with an error'))
        .finally(() => init.onTransfer?.(-1))
    },
    { maxInboundStreams: 256, maxOutboundStreams: 16 },
  )
}

async function session(stream: Stream, init: BlockExchangeServerInit): Promise<void> {
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
        init.metrics.inc('konbini_wantlist_throttled_total')
        await new Promise((r) => setTimeout(r, 1000 - elapsed))
      }
      for (const cid of frame.cids) {
        const bytes = await init.blockstore.getBytes(cid).catch(() => undefined)
        if (bytes === undefined) {
          await sendFrame(stream, { kind: FrameKind.DontHave, cid })
          continue
        }
        init.tickets.charge(ticket, signature, bytes.byteLength)
        await init.egress.take(bytes.byteLength)
        await sendFrame(stream, { kind: FrameKind.Block, cid, bytes })
        init.metrics.inc('konbini_blocks_served_total', 1, { path: 'blocks' })
        init.metrics.inc('konbini_bytes_served_total', bytes.byteLength, { path: 'blocks' })
      }
    }
    await stream.close().catch(() => {})
  } catch (err) {
    const { body } = toWireError(err)
    init.metrics.inc('konbini_block_sessions_refused_total', 1, { error: body.error.name })
    await sendFrame(stream, { kind: FrameKind.Error, error: body.error }).catch(() => {})
    await stream.close().catch(() => stream.abort(err as Error))
  }
}
