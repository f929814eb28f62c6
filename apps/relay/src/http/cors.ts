import type { IncomingMessage, ServerResponse } from 'node:http'
import { BaseError } from '@konbini/protocol'

/**
 * POST routes a browser page legitimately calls across origins: the portal, a donor tab and any
 * site using the browser client talk to meta and resource nodes on other origins. Every other
 * POST (admin denylist changes, meta-to-meta co-signing, node-to-meta storage reports, meta-to-node
 * repair orders) comes from a process, never a page, and gets no CORS answer: a page cannot call it.
 */
const BROWSER_POSTS = new Set([
  '/v1/uploads',
  '/v1/providers',
  '/v1/nodes/heartbeat',
  '/v1/nodes/leave',
  '/v1/reports/transfer',
  '/v1/files/ls',
  '/v1/files/stat',
  '/v1/files/rm',
  '/v1/receipts',
  '/v1/grants',
  '/v1/upload',
  '/v1/blocks',
  '/v1/blocks/have',
  '/v1/blocks/receipts',
])

/** Content types a browser sends cross-origin without asking first (a "simple" request). */
const SIMPLE_TYPES = new Set(['application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'])

/** A POST a browser would send from any page without a preflight: refused, so no page can fire one unseen. */
export class SimpleRequestRefusedError extends BaseError {
  override name = 'SimpleRequestRefusedError'
  override readonly status = 415
  constructor() {
    super('POST bodies are sent as application/json (or Konbini frames), never as a form or plain text.')
  }
}

/**
 * Answers CORS: `*` for reads (GET/HEAD: public data, no cookies anywhere) and for the POST routes
 * browsers use. A preflight allows POST only on those routes: for any other route a browser
 * refuses to send the POST (reads with headers, like the meta client's GETs, stay allowed).
 * Returns true when it answered the request (a preflight).
 */
export function answerCors(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
  const browserPost = BROWSER_POSTS.has(url.pathname)
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS' || browserPost) res.setHeader('access-control-allow-origin', '*')
  if (req.method !== 'OPTIONS') return false
  res.writeHead(204, {
    'access-control-allow-methods': browserPost ? 'GET, HEAD, POST, OPTIONS' : 'GET, HEAD, OPTIONS',
    'access-control-allow-headers': 'content-type, range, x-konbini-ticket, x-konbini-receipt, x-konbini-route, x-konbini-part',
    'access-control-max-age': '600',
  })
  res.end()
  return true
}

/**
 * Throws SimpleRequestRefusedError for a state-changing request a page could send across origins
 * without a preflight: a POST (or PUT, DELETE…) with no content type or a form/plain-text one.
 */
export function refuseSimpleRequest(req: IncomingMessage): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]?.trim().toLowerCase() ?? ''
  if (type === '' || SIMPLE_TYPES.has(type)) throw new SimpleRequestRefusedError()
}
