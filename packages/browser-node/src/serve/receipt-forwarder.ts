import { MAX_RECEIPTS_PER_POST, type SignedReceipt } from '@konbini/protocol'
import type { DownloadTickets } from './download-tickets.ts'

export interface ReceiptForwarderInit {
  tickets: DownloadTickets
  /** Posts receipts to a meta node (`POST /v1/receipts`). */
  post: (receipts: SignedReceipt[]) => Promise<unknown>
  intervalMs: number
  onError?: (err: unknown) => void
}

export interface ReceiptForwarder {
  /** Hands every receipt not handed yet to the meta node now. */
  flush(): Promise<void>
  stop(): Promise<void>
}

/**
 * Hands a provider's latest receipts to a meta node every `intervalMs` (what it earns counts only
 * once a meta node has it). A failed post keeps them for the next round.
 */
export function forwardReceipts(init: ReceiptForwarderInit): ReceiptForwarder {
  let running: Promise<void> = Promise.resolve()
  const round = async () => {
    for (;;) {
      const batch = init.tickets.takeUnsent(MAX_RECEIPTS_PER_POST)
      if (batch.length === 0) return
      try {
        await init.post(batch)
      } catch (err) {
        init.tickets.unsent(batch)
        init.onError?.(err)
        return
      }
    }
  }
  const flush = () => {
    running = running.then(round)
    return running
  }
  const timer = setInterval(() => void flush(), init.intervalMs)
  ;(timer as { unref?: () => void }).unref?.()
  return {
    flush,
    async stop() {
      clearInterval(timer)
      await flush()
    },
  }
}
