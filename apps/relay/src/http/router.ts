import type { IncomingMessage, ServerResponse } from 'node:http'
import { BaseError } from '@konbini/protocol'
import { answerCors, refuseSimpleRequest } from './cors.ts'
import { settleRefusedBody } from './refuse-body.ts'
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
    if (answerCors(req, res, url)) return
    try {
      refuseSimpleRequest(req)
      for (const handler of handlers) {
        if (await handler(req, res, url)) return
      }
      throw new RouteNotFoundError(url.pathname)
    } catch (err) {
      // a named error is the client's; anything else is ours and must reach the operator's log
      if (!(err instanceof BaseError)) onInternalError?.(err, url.pathname)
      settleRefusedBody(req, res)
      sendError(res, err)
    }
  }
}
