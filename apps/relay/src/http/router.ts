import type { IncomingMessage, ServerResponse } from 'node:http'
import { BaseError } from '@konbini/protocol'
import { sendError } from './respond.ts'

/** A request handler; returns false when the route is not its own. */
export type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>

class RouteNotFoundError extends BaseError {
  override name = 'RouteNotFoundError'
  override readonly status = 404
  constructor(path: string) {
    super(`Nothing is served at ${path.slice(0, 200)}.`)
  }
}

/** Tries each handler in turn; errors become named JSON errors and never crash the process. */
export function route(handlers: readonly Handler[], onInternalError?: (err: unknown, path: string) => void) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    let url: URL
    try {
      url = new URL(req.url ?? '/', 'http://localhost')
    } catch {
      sendError(res, new RouteNotFoundError(String(req.url)))
      return
    }
    res.setHeader('access-control-allow-origin', '*')
    if (req.method === 'OPTIONS') {
      res.writeHead(204, {
        'access-control-allow-methods': 'GET, HEAD, POST, OPTIONS',
        'access-control-allow-headers': 'content-type, range, x-konbini-ticket, x-konbini-receipt, x-konbini-route, x-konbini-part',
        'access-control-max-age': '600',
      })
      res.end()
      return
    }
    try {
      for (const handler of handlers) {
        if (await handler(req, res, url)) return
      }
      throw new RouteNotFoundError(url.pathname)
    } catch (err) {
      // a named error is the client's; anything else is ours and must reach the operator's log
      if (!(err instanceof BaseError)) onInternalError?.(err, url.pathname)
      drainRequest(req)
      sendError(res, err)
    }
  }
}

/** Most body bytes read and dropped after a refusal, so the client gets to read the named error. */
const DRAIN_LIMIT = 64 * 1024 * 1024

/**
 * After an early refusal the client may still be sending: closing now would reset the connection
 * before it reads the answer. Read and drop the rest (bounded), then let keep-alive carry on.
 */
function drainRequest(req: IncomingMessage): void {
  if (req.complete || req.destroyed) return
  let drained = 0
  req.on('data', (chunk: Buffer) => {
    drained += chunk.byteLength
    if (drained > DRAIN_LIMIT) req.destroy()
  })
  req.on('error', () => {})
  req.resume()
}
