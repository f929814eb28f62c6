import { type HeartbeatBody, MetaClient, signHeartbeat, signNodeStatement } from '@konbini/browser-node'
import { type HeartbeatResponse, MetaUnavailableError, type ReceiptsResponse, type SignedReceipt, type StorageReport } from '@konbini/protocol'
import type { PrivateKeyAccount } from 'viem/accounts'

export interface ReporterInit {
  metaUrls: readonly string[]
  operator: PrivateKeyAccount
  peerId: string
  chainId: number
  timeoutMs?: number
}

/**
 * Sends a node's signed statements (heartbeats, storage reports) and its consumers' receipts to
 * its meta nodes through the one meta client (it fails over between URLs, so one dead meta
 * process does not stop the node).
 */
export class MetaReporter {
  private readonly init: ReporterInit
  private readonly client: MetaClient | undefined

  constructor(init: ReporterInit) {
    this.init = init
    // a node may run without meta nodes (it then serves and stores only what tickets allow)
    this.client = init.metaUrls.length === 0 ? undefined : new MetaClient({ urls: init.metaUrls, timeoutMs: init.timeoutMs ?? 5000 })
  }

  private get meta(): MetaClient {
    if (this.client === undefined) throw new MetaUnavailableError({ urls: [] })
    return this.client
  }

  /** Signs (the same way light peers do) and sends a heartbeat; the answer lists what to serve publicly and what to refuse. */
  async heartbeat(body: HeartbeatBody): Promise<HeartbeatResponse> {
    const { init } = this
    return this.meta.post('heartbeat', await signHeartbeat({ account: init.operator, body, chainId: init.chainId }))
  }

  /** Reports an upload durable; the report names this node and its operator. */
  async storage(report: Omit<StorageReport, 'peerId' | 'operator'>): Promise<void> {
    const { operator, peerId, chainId } = this.init
    const body: StorageReport = { ...report, peerId, operator: operator.address }
    await this.meta.post('storageReport', { body, signature: await signNodeStatement({ account: operator, kind: 'storage', peerId, body, chainId }) })
  }

  /** Hands consumers' receipts to a meta node (they are self-authenticating: no node signature). */
  receipts(receipts: readonly SignedReceipt[]): Promise<ReceiptsResponse> {
    return this.meta.post('receipts', { receipts: [...receipts] })
  }
}
