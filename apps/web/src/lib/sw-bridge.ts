import { type DownloadCache, reportMeasured } from './download-cache.ts'
import { servePort } from './port-source.ts'
import { type PagePortMessage, type RangeRequest, type SaveRequest, SW_SCRIPT_URL, saveUrl, type WorkerPortMessage } from './sw-messages.ts'
import { errorSentence } from './shown-error.ts'

/** Streaming needs a Service Worker and this page cannot have one. */
export class StreamingUnavailableError extends Error {
  override name = 'StreamingUnavailableError'
}

let registering: Promise<ServiceWorker> | undefined

/**
 * Registers `/konbini-sw.js` (scope `/`) once per tab and waits until it controls this page, so
 * media requests reach it. Rejects with {@link StreamingUnavailableError} and a sentence when it cannot.
 * @example const worker = await ensureServiceWorker()
 */
export function ensureServiceWorker(): Promise<ServiceWorker> {
  registering ??= (async () => {
    if (!('serviceWorker' in navigator)) {
      throw new StreamingUnavailableError(
        'This browser does not allow a Service Worker here (private window or insecure origin), so Save and Preview cannot stream.',
      )
    }
    const sw = navigator.serviceWorker
    const registration = await sw.register(SW_SCRIPT_URL, { scope: '/', updateViaCache: 'none' })
    await sw.ready
    if (!sw.controller) {
      // A hard reload leaves the page uncontrolled; ask the worker to claim it.
      const changed = new Promise<void>((resolve) => sw.addEventListener('controllerchange', () => resolve(), { once: true }))
      registration.active?.postMessage({ type: 'claim' })
      await Promise.race([changed, new Promise((resolve) => setTimeout(resolve, 5000))])
    }
    const worker = sw.controller ?? registration.active
    if (!worker) throw new StreamingUnavailableError('The streaming Service Worker did not start; reload the page.')
    return worker
  })()
  const attempt = registering
  attempt.catch(() => {
    if (registering === attempt) registering = undefined
  })
  return attempt
}

/**
 * Whether a Range read covers the file's last byte: a media element that played to the end (or a
 * read of the whole file) is a finished download, worth a report to the meta node.
 * @example readsToEnd({ offset: 0, length: 10 }, 10) // true
 */
export function readsToEnd(range: Pick<RangeRequest, 'offset' | 'length'>, size: number): boolean {
  return range.offset + range.length >= size
}

async function answerRange(port: MessagePort, req: RangeRequest, cache: DownloadCache) {
  let held: Awaited<ReturnType<DownloadCache['acquire']>>
  try {
    held = await cache.acquire(req.root)
    if (held.download.type !== 'file') {
      held.release()
      throw new Error('This is a folder; preview one of its files.')
    }
  } catch (err) {
    const msg: PagePortMessage = { type: 'error', name: err instanceof Error ? err.name : 'Error', message: errorSentence(err) }
    port.postMessage(msg)
    port.close()
    return
  }
  port.postMessage({ type: 'ready', size: held.download.size } satisfies PagePortMessage)
  const controller = new AbortController()
  try {
    const { outcome } = await servePort(port, held.download.read({ offset: req.offset, length: req.length }, controller.signal), controller)
    if (outcome === 'end' && readsToEnd(req, held.download.size)) reportMeasured(held.download)
  } finally {
    held.release()
  }
}

/**
 * Answers the worker's `range` requests (media elements' reads) from `cache`. Returns the uninstaller.
 * @example useEffect(() => installRangeBridge(cache), [cache])
 */
export function installRangeBridge(cache: DownloadCache): () => void {
  if (!('serviceWorker' in navigator)) return () => {}
  const sw = navigator.serviceWorker
  const onMessage = (event: MessageEvent) => {
    const data = event.data as RangeRequest | undefined
    if (data?.type !== 'range') return
    const port = data.port ?? event.ports[0]
    if (port) void answerRange(port, data, cache)
  }
  sw.addEventListener('message', onMessage)
  sw.startMessages()
  return () => sw.removeEventListener('message', onMessage)
}

function registered(port: MessagePort, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new StreamingUnavailableError('The streaming Service Worker did not answer; reload the page.')), 10_000)
    port.onmessage = (event: MessageEvent<WorkerPortMessage>) => {
      if (event.data?.type === 'registered' && event.data.id === id) {
        clearTimeout(timer)
        port.onmessage = null
        resolve()
      }
    }
    port.start()
  })
}

/** What {@link saveThroughWorker} streams. */
export interface SaveInit {
  cache: DownloadCache
  root: string
  name: string
  mime: string
  /** `peerShare`: the fraction of the bytes so far that came from donor tabs (WebRTC) rather than full nodes. */
  onProgress?: (sentBytes: number, size: number, peerShare: number) => void
  signal?: AbortSignal
}

/**
 * Streams a file into the browser's download manager through the worker: registers the stream,
 * navigates a hidden iframe to the save URL, and feeds chunks as the download pulls them.
 * Resolves `'end'` when every byte was handed over, `'cancel'` when the user cancelled the download.
 * @example await saveThroughWorker({ cache, root, name: 'a.bin', mime: 'application/octet-stream' })
 */
export async function saveThroughWorker({ cache, root, name, mime, onProgress, signal }: SaveInit): Promise<'end' | 'cancel'> {
  const worker = await ensureServiceWorker()
  const held = await cache.acquire(root)
  const iframe = document.createElement('iframe')
  try {
    const { download } = held
    if (download.type !== 'file') throw new Error('This is a folder; save its files one by one.')
    const id = crypto.randomUUID()
    const channel = new MessageChannel()
    const ready = registered(channel.port1, id)
    const req: SaveRequest = { type: 'save', id, name, size: download.size, mime, port: channel.port2 }
    worker.postMessage(req, [channel.port2])
    await ready
    const controller = new AbortController()
    signal?.addEventListener('abort', () => controller.abort(), { once: true })
    let sent = 0
    const served = servePort(channel.port1, download.read(undefined, controller.signal), controller, (bytes) => {
      sent += bytes
      const { bytesFromPeers, bytesFromNodes } = download.stats()
      onProgress?.(sent, download.size, bytesFromPeers + bytesFromNodes > 0 ? bytesFromPeers / (bytesFromPeers + bytesFromNodes) : 0)
    })
    iframe.hidden = true
    iframe.src = saveUrl(id, name)
    document.body.append(iframe)
    const { outcome, error } = await served
    if (outcome === 'error') throw new Error(error ?? `The download of ${name} failed after ${sent} bytes.`)
    // The worker answers an empty file without pulling and cancels the port.
    const saved = outcome === 'end' || download.size === 0
    // before the release below: an evicted session's finish() then reports only what is left
    if (saved) reportMeasured(download)
    return saved ? 'end' : 'cancel'
  } finally {
    held.release()
    // The download manager owns the response by now; the iframe only has to outlive the navigation.
    setTimeout(() => iframe.remove(), 30_000)
  }
}
