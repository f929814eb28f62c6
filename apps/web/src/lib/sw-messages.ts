/**
 * The messages between the portal's pages and its streaming Service Worker (`public/konbini-sw.js`).
 *
 * The page does the network work (WebRTC exists only on a page's main thread); the worker turns it
 * into HTTP responses for the browser's download manager and for media elements, so a tab never
 * holds a whole file in memory. The worker is plain JS served as is and repeats only the path
 * prefixes and message `type` strings below.
 *
 * **Save.** The page posts {@link SaveRequest} to the worker with `port` transferred and waits for
 * {@link SaveRegistered} on its end of the port; then it points a hidden iframe at
 * `/konbini-sw/save/{id}/{name}`. The worker answers that navigation with a streamed
 * `Content-Disposition: attachment` response fed by the pull protocol.
 *
 * **Range.** A media element asks for `/konbini-sw/file/{root}/{name}?size=N&type=mime`. The worker
 * parses `Range` (one range; 206, 416, or 200 without `Range`) and posts {@link RangeRequest} to the
 * requesting page (or another window it controls) with a fresh port. The page answers
 * {@link StreamReady} (or {@link StreamError}) first, then serves the pull protocol.
 *
 * **Pull protocol** (on the port, after the above): the worker sends {@link PullMessage} only when
 * its stream wants data, so one chunk is in flight at a time; the page answers with one
 * {@link ChunkMessage} (a transferred `ArrayBuffer`), {@link EndMessage} or {@link StreamError}.
 * The worker sends {@link CancelMessage} when the download or the media request is cancelled; the page
 * then stops reading. When the page goes away, the worker errors the stream.
 */

/** Path prefix of streamed downloads: `/konbini-sw/save/{id}/{name}`. */
export const SW_SAVE_PREFIX = '/konbini-sw/save/'
/** Path prefix of ranged file reads: `/konbini-sw/file/{root}/{name}?size=N&type=mime`. */
export const SW_FILE_PREFIX = '/konbini-sw/file/'
/** The worker's script URL; its scope is `/`. */
export const SW_SCRIPT_URL = '/konbini-sw.js'

/** Page → worker (with `port` transferred): register a streamed download. */
export interface SaveRequest {
  type: 'save'
  /** Random id, used once, in the save URL. */
  id: string
  /** File name offered to the download manager. */
  name: string
  /** Exact byte length (sent as `Content-Length`). */
  size: number
  mime: string
  port: MessagePort
}

/** Worker → page on the save port: the download URL is ready to be navigated to. */
export interface SaveRegistered {
  type: 'registered'
  id: string
}

/** Worker → page (via `client.postMessage`, with `port` transferred): serve bytes of `root`. */
export interface RangeRequest {
  type: 'range'
  root: string
  offset: number
  /** Bytes wanted from `offset`; the worker always sends a number (to the end of the file when no range). */
  length: number
  port: MessagePort
}

/** Page → worker, first answer to a {@link RangeRequest}: the file exists; its true size and kind. */
export interface StreamReady {
  type: 'ready'
  size: number
}

/** Worker → page: send the next chunk. */
export interface PullMessage {
  type: 'pull'
}

/** Page → worker: the next chunk (its buffer is transferred). */
export interface ChunkMessage {
  type: 'chunk'
  data: ArrayBuffer
}

/** Page → worker: no more bytes. */
export interface EndMessage {
  type: 'end'
}

/** Page → worker: the stream failed; `message` is one sentence for the user. */
export interface StreamError {
  type: 'error'
  name: string
  message: string
}

/** Worker → page: the consumer went away (download cancelled, media element seeked); stop reading. */
export interface CancelMessage {
  type: 'cancel'
}

/** Page → worker (no port): take control of this page now (`clients.claim()`), e.g. after a hard reload. */
export interface ClaimRequest {
  type: 'claim'
}

/** What a page posts to the worker itself. */
export type PageToWorker = SaveRequest | ClaimRequest
/** What the worker posts on a stream port. */
export type WorkerPortMessage = SaveRegistered | PullMessage | CancelMessage
/** What the page posts on a stream port. */
export type PagePortMessage = StreamReady | ChunkMessage | EndMessage | StreamError

/**
 * The worker URL that streams `root` with Range support, for `<video src>`, `<img src>` and the like.
 * @example fileStreamUrl('bafy…', 'clip.mp4', 1_000_000, 'video/mp4') // '/konbini-sw/file/bafy…/clip.mp4?size=1000000&type=video%2Fmp4'
 */
export function fileStreamUrl(root: string, name: string, size: number, mime: string): string {
  const query = new URLSearchParams({ size: String(size), type: mime })
  return `${SW_FILE_PREFIX}${encodeURIComponent(root)}/${encodeURIComponent(name)}?${query}`
}

/**
 * The worker URL that answers a registered save with an attachment.
 * @example saveUrl('3f2a…', 'report.pdf') // '/konbini-sw/save/3f2a…/report.pdf'
 */
export function saveUrl(id: string, name: string): string {
  return `${SW_SAVE_PREFIX}${encodeURIComponent(id)}/${encodeURIComponent(name)}`
}
