import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Socket } from 'node:net'

/** Most body bytes read and dropped after a refusal, so the client gets to read the named error. */
export const DRAIN_LIMIT = 64 * 1024 * 1024
/** A refused body that stops for this long is not waited for: the connection is closed. */
const DRAIN_IDLE_MS = 5000
/** How long a connection closed after a refusal keeps reading (and dropping) what the client still sends. */
const LINGER_MS = 2000

/**
 * Settles the connection of a request refused before its body was read: the client gets the answer
 * and the connection is either reusable or closed, never left hanging. Call it before the answer is sent.
 * - A body of at most `DRAIN_LIMIT` bytes is read and dropped, so a client that reads the answer only
 *   after sending everything (a browser's half-duplex fetch) gets it, and keep-alive carries on. A
 *   drain that stalls for `DRAIN_IDLE_MS` ends with the connection.
 * - A bigger body, or one a handler already stopped reading (a `for await` that broke off destroys
 *   the request: nobody would read the rest), gets its answer with `connection: close`, then a
 *   lingering close: the relay half-closes and drops what still arrives for `LINGER_MS`, so the
 *   client reads the answer instead of a reset caused by the bytes it was still sending.
 */
export function settleRefusedBody(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete) return
  const socket = res.socket ?? req.socket
  if (socket === null) return
  const declared = Number(req.headers['content-length'])
  if (req.destroyed || (Number.isFinite(declared) && declared > DRAIN_LIMIT)) {
    // when headers went out already, the error path ends the response by destroying it
    if (res.headersSent) return
    res.setHeader('connection', 'close')
    lingerOnClose(socket)
    if (!req.destroyed) req.resume()
    return
  }
  let drained = 0
  const idle = setTimeout(() => socket.destroy(), DRAIN_IDLE_MS)
  idle.unref()
  req.on('data', (chunk: Buffer) => {
    drained += chunk.byteLength
    idle.refresh()
    if (drained > DRAIN_LIMIT) socket.destroy()
  })
  req.once('end', () => clearTimeout(idle))
  socket.once('close', () => clearTimeout(idle))
  req.on('error', () => {})
  req.resume()
}

/**
 * Node ends a `connection: close` response with `socket.destroySoon()` (close as soon as the answer
 * is written): this socket instead half-closes and lingers. Should Node stop calling it, the close
 * is Node's own, only less graceful.
 */
function lingerOnClose(socket: Socket): void {
  socket.destroySoon = () => {
    socket.end()
    const timer = setTimeout(() => socket.destroy(), LINGER_MS)
    timer.unref()
    socket.once('close', () => clearTimeout(timer))
  }
}
