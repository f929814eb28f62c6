import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import { assertSafeName, BaseError, InvalidRequestError, parseCid } from '@konbini/protocol'
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

const TYPES: Record<string, string> = {
  txt: 'text/plain; charset=utf-8',
  md: 'text/plain; charset=utf-8',
  json: 'application/json',
  pdf: 'application/pdf',
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  avif: 'image/avif',
  mp4: 'video/mp4',
  webm: 'video/webm',
  mp3: 'audio/mpeg',
  ogg: 'audio/ogg',
  wav: 'audio/wav',
  wasm: 'application/wasm',
}

/**
 * A content type from a file name's extension. Only passive types are named: HTML, SVG and
 * scripts stay `application/octet-stream`, so uploaded pages never run on the relay's origin.
 */
export function contentTypeFor(name: string | undefined): string {
  const ext = name?.includes('.') ? name.slice(name.lastIndexOf('.') + 1).toLowerCase() : ''
  return TYPES[ext] ?? 'application/octet-stream'
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
