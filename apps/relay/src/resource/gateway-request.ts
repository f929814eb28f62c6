import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { assertSafeName, BaseError, InvalidRequestError, mimeFromName, parseCid } from '@konbini/protocol'
import type { CID } from 'multiformats/cid'
import type { DurableBlockstore } from './durable-blockstore.ts'
import type { ByteRateLimiter } from '@konbini/browser-node'

/** One gateway request, as the response writers see it. */
export interface GatewayRequest {
  req: IncomingMessage
  res: ServerResponse
  url: URL
  path: GatewayPath
  store: DurableBlockstore
  /** Every body byte waits on each of these (egress cap, public-path rate). */
  limiters: ReadonlyArray<ByteRateLimiter | undefined>
  /** Aborts when the client goes away or the response is over. */
  signal: AbortSignal
}

/** A content path under `/ipfs/`: the root CID and the decoded names below it. */
export interface GatewayPath {
  cid: CID
  segments: string[]
}

/** Nothing at this path inside an existing DAG. */
export class PathNotFoundError extends BaseError {
  override name = 'PathNotFoundError' as const
  override readonly status = 404
  constructor({ cid, path }: { cid: string; path: string }) {
    super(`Nothing named ${JSON.stringify(path.slice(0, 200))} is inside ${cid}.`)
  }
}

/**
 * Parses `/ipfs/{cid}[/name…]` from the request target as the client sent it, before URL
 * normalisation could fold `..` away. Each name is percent-decoded, then checked: `.`/`..`,
 * separators (`%2F`, `\`) and control characters are refused with a 400. Returns undefined when
 * the request is not for `/ipfs/`.
 */
export function parseGatewayPath(req: IncomingMessage, url: URL): GatewayPath | undefined {
  const target = req.url ?? ''
  const raw = target.startsWith('/') ? (target.split('?', 1)[0] ?? '') : url.pathname
  if (!raw.startsWith('/ipfs/')) return undefined
  const [first = '', ...rest] = raw.slice('/ipfs/'.length).split('/')
  const cid = parseCid(decode(first))
  if (rest.at(-1) === '') rest.pop()
  const segments = rest.map((segment) => assertSafeName(decode(segment)))
  return { cid, segments }
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment)
  } catch {
    throw new InvalidRequestError({ reason: 'the path is not valid percent-encoding' })
  }
}

/** Types a browser would run or render as a page: served as bytes, so uploads never run on the relay's origin. */
const ACTIVE = new Set(['text/html', 'image/svg+xml', 'text/javascript', 'text/css', 'application/xml'])

/**
 * A content type from a file name's extension. Only passive types are named: HTML, SVG and
 * scripts stay `application/octet-stream`, so uploaded pages never run on the relay's origin.
 */
export function contentTypeFor(name: string | undefined): string {
  const mime = name === undefined ? 'application/octet-stream' : mimeFromName(name)
  if (ACTIVE.has(mime)) return 'application/octet-stream'
  return mime.startsWith('text/') ? `${mime}; charset=utf-8` : mime
}

/** Headers of every response for immutable `/ipfs/` content. */
export function immutableHeaders(etag: string | undefined): OutgoingHttpHeaders {
  return {
    'cache-control': 'public, max-age=29030400, immutable',
    'x-content-type-options': 'nosniff',
    vary: 'Accept',
    ...(etag === undefined ? {} : { etag }),
  }
}

/** Answers 304 when the client already holds this exact representation. */
export function sendNotModified(g: GatewayRequest, etag: string): boolean {
  const header = g.req.headers['if-none-match']
  if (header === undefined) return false
  const tags = header.split(',').map((tag) => tag.trim().replace(/^W\//, ''))
  if (!tags.includes(etag) && !tags.includes('*')) return false
  g.res.writeHead(304, immutableHeaders(etag))
  g.res.end()
  return true
}
