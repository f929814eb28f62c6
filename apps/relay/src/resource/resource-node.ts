import { ByteRateLimiter, DownloadTickets, forwardReceipts, nodeBinding, serveBlockExchange } from '@konbini/browser-node'
import { join } from 'node:path'
import type { PrivateKey } from '@libp2p/interface'
import type { Libp2p } from 'libp2p'
import type { Logger } from 'pino'
import type { PrivateKeyAccount } from 'viem/accounts'
import type { RelayConfig } from '../config.ts'
import type { Metrics } from '../http/metrics.ts'
import type { Handler } from '../http/router.ts'
import { startBitswap } from './bitswap.ts'
import { DurableBlockstore } from './durable-blockstore.ts'
import { gatewayHandler } from './gateway.ts'
import { haveHandler } from './have-handler.ts'
import { watchMetaWhitelist } from '../pot/meta-whitelist.ts'
import { recoverReceiptSignerNative } from '../pot/receipt-verifier.ts'
import { httpBlocksHandler } from './http-blocks.ts'
import { httpReceiptsHandler } from './http-receipts.ts'
import { challengeHandler } from './challenge-handler.ts'
import { identityHandler } from './identity-handler.ts'
import { UploadTicketUse } from './upload-ticket-use.ts'
import { replicateHandler } from './replicate.ts'
import { RootAccess } from './root-access.ts'
import { SentBlocks } from './sent-blocks.ts'
import { MetaReporter } from './reporter.ts'
import { uploadHandler } from './upload-handler.ts'

export interface ResourceNodeInit {
  config: RelayConfig
  libp2p: Libp2p
  peerKey: PrivateKey
  operator: PrivateKeyAccount
  metrics: Metrics
  log: Logger
  httpUrl: string
}

export interface ResourceNode {
  blockstore: DurableBlockstore
  egress: ByteRateLimiter
  handlers: Handler[]
  /** Sends one heartbeat now (also sent every `heartbeatMs` once started). */
  heartbeat(): Promise<void>
  /**
   * Sends the first heartbeat and one every `heartbeatMs`: call it once `handlers` are served,
   * since the meta node checks the node's URL (`GET /v1/identity`) before registering it.
   */
  startHeartbeats(): Promise<void>
  stop(): Promise<void>
}

/** Starts the resource role: durable block store, block exchange, uploads, gateway, Bitswap, heartbeats. */
export async function startResourceNode(init: ResourceNodeInit): Promise<ResourceNode> {
  const { config, libp2p, metrics, log } = init
  const blockstore = new DurableBlockstore(join(config.dataDir, 'blocks'))
  await blockstore.open()
  const egress = new ByteRateLimiter(config.egressBps)
  const publicLimiter = new ByteRateLimiter(config.publicBps)
  const peerId = libp2p.peerId.toString()
  // the chain's whitelist, when there is a chain: a kicked meta node's tickets are refused
  const trustedMetas = [...config.trustedMetas]
  const whitelist =
    config.chain === undefined
      ? undefined
      : watchMetaWhitelist({
          ...config.chain,
          configured: config.trustedMetas,
          trusted: trustedMetas,
          intervalMs: config.heartbeatMs,
          onChange: (trusted) => log.warn({ trusted }, 'the chain changed which meta nodes this node trusts'),
        })
  const policy = { trustedMetas, chainId: config.chainId, peerId }
  const reporter = new MetaReporter({ metaUrls: config.metaUrls, operator: init.operator, peerId, chainId: config.chainId })
  let activeTransfers = 0
  const onTransfer = (delta: 1 | -1) => {
    activeTransfers += delta
  }
  metrics.gauge('konbini_active_transfers', () => activeTransfers)
  metrics.gauge('konbini_stored_bytes', () => blockstore.used)

  // what the public path may serve and what every path refuses, from each heartbeat's answer
  const access = new RootAccess(blockstore)
  const tickets = new DownloadTickets({
    ...policy,
    blocks: blockstore,
    isDenied: (cid) => access.isDenied(cid),
    recoverReceiptSigner: recoverReceiptSignerNative,
    receiptWaitMs: config.receiptWaitMs,
  })
  const receiptsLog = log.child({ component: 'receipts' })
  const receipts = forwardReceipts({
    tickets,
    intervalMs: config.receiptForwardMs,
    post: async (batch) => {
      const answer = await reporter.receipts(batch)
      metrics.inc('konbini_receipts_forwarded_total', answer.accepted)
      // a replay is the consumer having handed in the same receipt first
      const refused = answer.rejected.filter((r) => r.error.name !== 'ReceiptReplayedError')
      if (refused.length > 0) receiptsLog.warn({ rejected: refused.slice(0, 5) }, 'the meta node refused receipts')
    },
    onError: (err) => receiptsLog.debug({ err }, 'handing receipts to the meta node failed; kept for the next round'),
  })
  const blocksLog = log.child({ component: 'blocks' })
  await serveBlockExchange({
    libp2p,
    blocks: blockstore,
    egress,
    tickets,
    onTransfer,
    onServed: (bytes) => {
      metrics.inc('konbini_blocks_served_total', 1, { path: 'blocks' })
      metrics.inc('konbini_bytes_served_total', bytes, { path: 'blocks' })
    },
    onRefused: (error) => metrics.inc('konbini_block_sessions_refused_total', 1, { error }),
    onThrottled: () => metrics.inc('konbini_wantlist_throttled_total'),
    onSessionError: (err) => blocksLog.debug({ err }, 'block session ended with an error'),
  })
  const bitswap = config.bitswap ? await startBitswap({ libp2p, blockstore, limiter: publicLimiter, access }) : undefined
  const uses = new UploadTicketUse()
  const sent = new SentBlocks(join(config.dataDir, 'sent-blocks.log'))
  await sent.open()
  const handlers: Handler[] = [
    uploadHandler({ blockstore, access, policy, uses, sent, reporter, metrics, log: log.child({ component: 'upload' }), onTransfer }),
    haveHandler({ blockstore, policy, sent, access }),
    httpBlocksHandler({ blockstore, tickets, egress, metrics, onTransfer }),
    httpReceiptsHandler({ tickets }),
    replicateHandler({ libp2p, blockstore, policy, reporter, metrics, log: log.child({ component: 'replicate' }) }),
    gatewayHandler({ blockstore, egress, publicLimiter, access }),
    identityHandler({ peerId, peerKey: init.peerKey }),
    challengeHandler({ blockstore, policy, egress }),
  ]

  const binding = await nodeBinding(init.peerKey, init.operator.address)
  const heartbeat = async () => {
    const answer = await reporter.heartbeat({
      peerId,
      multiaddrs: libp2p.getMultiaddrs().map((a) => a.toString()),
      httpUrl: init.httpUrl,
      operator: init.operator.address,
      kind: 'full',
      region: config.region,
      capacityBytes: config.capacityBytes,
      usedBytes: blockstore.used,
      egressCapBps: config.egressBps,
      activeTransfers,
      issuedAt: Math.floor(Date.now() / 1000),
      trustedMetas,
      binding,
    })
    await access.apply(answer)
  }
  const beat = () =>
    heartbeat().catch((err) => {
      metrics.inc('konbini_heartbeat_failures_total')
      log.debug({ err }, 'heartbeat failed')
    })
  let timer: ReturnType<typeof setInterval> | undefined

  return {
    blockstore,
    egress,
    handlers,
    heartbeat,
    async startHeartbeats() {
      if (timer !== undefined) return
      timer = setInterval(beat, config.heartbeatMs)
      timer.unref()
      await beat()
    },
    async stop() {
      clearInterval(timer)
      whitelist?.stop()
      await receipts.stop()
      await bitswap?.stop()
    },
  }
}
