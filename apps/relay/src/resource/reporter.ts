import { signHeartbeat, signNodeStatement } from '@konbini/browser-node'
import { type Heartbeat, MetaUnavailableError, type ReceiptsResponse, RemoteError, type SignedReceipt, type StorageReport } from '@konbini/protocol'
import type { PrivateKeyAccount } from 'viem/accounts'

export interface ReporterInit {
  metaUrls: readonly string[]
  operator: PrivateKeyAccount
  peerId: string
  chainId: number
  timeoutMs?: number
}

/**
 * Sends a node's signed statements (heartbeats, storage reports) to its meta nodes,
 * trying each URL in turn so one dead meta process does not stop the node.
 */
export class MetaReporter {
  private readonly init: ReporterInit
  private preferred = 0

  constructor(init: ReporterInit) {
    this.init = init
  }

  /** Signs (the same way light peers do) and sends a heartbeat. */
  async heartbeat(body: Heartbeat): Promise<void> {
    const { init } = this
    await this.send('/v1/nodes/heartbeat', await signHeartbeat({ account: init.operator, body, chainId: init.chainId }))
  }

  /** Reports an upload durable; the report names this node and its operator. */
  async storage(report: Omit<StorageReport, 'peerId' | 'operator'>): Promise<void> {
    const body: StorageReport = { ...report, peerId: this.init.peerId, operator: this.init.operator.address }
    await this.post('/v1/reports/storage', 'storage', body)
  }

  /** Hands consumers' receipts to a meta node (they are self-authenticating: no node signature). */
  async receipts(receipts: readonly SignedReceipt[]): Promise<ReceiptsResponse> {
    return (await this.send('/v1/receipts', { receipts })) as ReceiptsResponse
  }

  private async post(path: string, kind: string, body: unknown): Promise<void> {
    const { operator, peerId, chainId } = this.init
    await this.send(path, { body, signature: await signNodeStatement({ account: operator, kind, peerId, body, chainId }) })
  }

  private async send(path: string, signed: unknown): Promise<unknown> {
    const urls = this.init.metaUrls
    let lastError: unknown = new MetaUnavailableError({ urls })
    for (let i = 0; i < urls.length; i++) {
      const index = (this.preferred + i) % urls.length
      let res: Response
      try {
        res = await fetch(new URL(path, urls[index]), {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(signed),
          signal: AbortSignal.timeout(this.init.timeoutMs ?? 5000),
        })
      } catch (err) {
        lastError = err // unreachable: try the next meta
        continue
      }
      if (res.ok) {
        this.preferred = index
        return await res.json().catch(() => undefined)
      }
      const answer = (await res.json().catch(() => ({}))) as { error?: { name?: string; message?: string } }
      lastError = new RemoteError(answer.error?.name ?? 'RemoteError', answer.error?.message ?? `meta answered ${res.status}`, res.status)
      // a refusal (4xx) would be the same at every meta sharing the index
      if (res.status < 500) break
    }
    throw lastError
  }
}
