import { copyDag, ProviderPool } from '@konbini/browser-node'
import {
  InvalidRequestError,
  nodeStatementTypedData,
  type ReplicateRequest,
  replicateRequest,
  SignatureInvalidError,
  TicketScopeError,
  UntrustedMetaError,
  canonicalDigest,
} from '@konbini/protocol'
import { recoverTypedDataSigner } from '../pot/recover-typed-data.ts'
import type { Libp2p } from '@libp2p/interface'
import { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import type { Metrics } from '../http/metrics.ts'
import { readJson, sendJson } from '../http/respond.ts'
import type { Handler } from '../http/router.ts'
import { summarizeDag } from './dag-walk.ts'
import type { DurableBlockstore } from './durable-blockstore.ts'
import type { MetaReporter } from './reporter.ts'
import { type TicketPolicy, verifyUploadTicket } from '@konbini/browser-node'

export interface ReplicateInit {
  libp2p: Libp2p
  blockstore: DurableBlockstore
  policy: TicketPolicy
  reporter: MetaReporter
  metrics: Metrics
  log: Logger
}

/**
 * `POST /v1/replicate` (meta → node, repair): under an upload ticket naming this node, copy a DAG
 * node to node from the given sources over the block exchange, durably, then send the storage
 * report that makes this node a holder. Answers 202 at once; the report is the acknowledgement.
 */
export function replicateHandler(init: ReplicateInit): Handler {
  const running = new Set<string>()
  return async (req, res, url) => {
    if (url.pathname !== '/v1/replicate') return false
    if (req.method !== 'POST') throw new InvalidRequestError({ reason: 'replication requests are POSTed' })
    const request = await readJson(req, replicateRequest)
    await verifyOrder(request, init.policy)
    const root = request.download.ticket.root
    if (!running.has(root)) {
      running.add(root)
      replicate(init, request)
        .catch((err) => init.log.warn({ err, root }, 'replication failed'))
        .finally(() => running.delete(root))
    }
    sendJson(res, 202, { accepted: root })
    return true
  }
}

/**
 * A repair order counts only signed by a trusted meta node for this node, with that meta's
 * tickets — an upload ticket naming this node alone, a download ticket of its own (repair is the
 * network's traffic) — and sources among the download ticket's providers.
 */
async function verifyOrder(request: ReplicateRequest, policy: TicketPolicy): Promise<void> {
  const { signature, ...order } = request
  const digest = canonicalDigest(order)
  const signer = recoverTypedDataSigner(nodeStatementTypedData({ kind: 'replicate', peerId: policy.peerId, digest }, policy.chainId), signature)
  if (signer === undefined) throw new SignatureInvalidError()
  if (!policy.trustedMetas.includes(signer)) throw new UntrustedMetaError({ meta: signer })
  const upload = await verifyUploadTicket(request.upload, policy)
  // the order's signature covers the download ticket (its sources check the ticket's own when they serve)
  const download = request.download.ticket
  const scope = (reason: string) => new TicketScopeError({ ticketId: download.id, reason })
  if (upload.meta.toLowerCase() !== signer || download.meta.toLowerCase() !== signer) throw scope("its tickets are not the ordering meta node's")
  if (upload.nodes.length !== 1) throw scope('a repair places one copy, here')
  if (download.consumer.toLowerCase() !== signer) throw scope("the download is not the meta node's own")
  if (!request.sources.every((s) => download.providers.includes(s.peerId))) throw scope('a source is not among its providers')
}

async function replicate(init: ReplicateInit, request: ReplicateRequest): Promise<void> {
  const pool = new ProviderPool({ libp2p: init.libp2p, ticket: request.download, providers: request.sources })
  try {
    const root = CID.parse(request.download.ticket.root)
    await copyDag(root, {
      get: async (cid) => ((await init.blockstore.has(cid)) ? init.blockstore.getBytes(cid) : pool.get(cid)),
      put: (blocks) => init.blockstore.putMany(blocks),
    })
    const summary = await summarizeDag(init.blockstore, root)
    if (summary.missing.length > 0) throw new Error(`${summary.missing.length} blocks still missing`)
    await init.reporter.storage({
      ticketId: request.upload.ticket.id,
      root: root.toString(),
      blocks: summary.blocks,
      bytes: summary.bytes,
      issuedAt: Math.floor(Date.now() / 1000),
    })
    init.metrics.inc('konbini_replications_total')
  } finally {
    pool.close()
  }
}
