import type { PagePortMessage, WorkerPortMessage } from './sw-messages.ts'
import { errorSentence } from './shown-error.ts'

/** How a pull-protocol stream ended on the page's side; `error` is the sentence sent to the worker. */
export interface PortOutcome {
  outcome: 'end' | 'cancel' | 'error'
  error?: string
}

/**
 * Serves `chunks` to the Service Worker over `port` with the pull protocol (see `sw-messages.ts`):
 * one chunk per `pull`, each copied into its own transferred `ArrayBuffer` (the client may keep the
 * original); `end` when done; `error` with a sentence on failure. A `cancel` from the worker aborts
 * `controller`, which the read that produced `chunks` must observe. Resolves once, closing the port.
 * @example await servePort(port, download.read(range, ac.signal), ac)
 */
export function servePort(
  port: MessagePort,
  chunks: AsyncIterable<Uint8Array>,
  controller: AbortController,
  onChunk?: (bytes: number) => void,
): Promise<PortOutcome> {
  const it = chunks[Symbol.asyncIterator]()
  const post = (msg: PagePortMessage, transfer: Transferable[] = []) => port.postMessage(msg, transfer)
  let busy = false
  let settled = false
  return new Promise((resolve) => {
    const finish = (outcome: PortOutcome['outcome'], error?: string) => {
      if (settled) return
      settled = true
      port.onmessage = null
      port.close()
      if (outcome !== 'end') controller.abort()
      it.return?.().catch(() => {})
      resolve(error === undefined ? { outcome } : { outcome, error })
    }
    controller.signal.addEventListener('abort', () => {
      if (!settled && !busy) {
        post({ type: 'error', name: 'AbortError', message: 'Cancelled.' })
        finish('cancel')
      }
    })
    port.onmessage = async (event: MessageEvent<WorkerPortMessage>) => {
      const msg = event.data
      if (msg?.type === 'cancel') return finish('cancel')
      if (msg?.type !== 'pull' || busy || settled) return
      busy = true
      try {
        let next = await it.next()
        while (!next.done && next.value.byteLength === 0) next = await it.next()
        if (settled) return
        if (next.done) {
          post({ type: 'end' })
          return finish('end')
        }
        const copy = next.value.slice()
        const bytes = copy.byteLength // read before the transfer detaches the buffer
        post({ type: 'chunk', data: copy.buffer }, [copy.buffer])
        onChunk?.(bytes)
      } catch (err) {
        if (settled) return
        const message = errorSentence(err)
        post({ type: 'error', name: err instanceof Error ? err.name : 'Error', message })
        if (controller.signal.aborted) finish('cancel')
        else finish('error', message)
      } finally {
        busy = false
      }
    }
    port.start()
  })
}
