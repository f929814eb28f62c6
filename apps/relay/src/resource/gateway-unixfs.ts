import { BaseError, RAW_CODEC, UnsupportedCidError } from '@konbini/protocol'
import type { CID } from 'multiformats/cid'
import { exporter, type ReadableStorage, type UnixFSDirectory, type UnixFSEntry } from 'ipfs-unixfs-exporter'
import type { DurableBlockstore } from './durable-blockstore.ts'
import { contentTypeFor, type GatewayRequest, immutableHeaders, PathNotFoundError, sendNotModified } from './gateway-request.ts'
import { parseRange } from './range.ts'
import { sendBody } from './send-body.ts'

/** Blocks read ahead in parallel while a file streams: keeps time to first byte flat with size. */
const BLOCK_READ_CONCURRENCY = 8
/** The exporter reads a slice ahead of the client without backpressure: slices bound that memory. */
const SLICE = 8 * 1024 * 1024
/** A folder listing names at most this many entries. */
const MAX_LISTING = 1000

class RangeNotSatisfiableError extends BaseError {
  override name = 'RangeNotSatisfiableError' as const
  override readonly status = 416
  constructor({ size }: { size: number }) {
    super(`The requested range is outside the ${size}-byte file.`)
  }
}

/** A block reader for the exporter that stops as soon as the request is aborted. */
export function readableStore(store: DurableBlockstore): ReadableStorage {
  return {
    async *get(cid: CID, options?: { signal?: AbortSignal }) {
      options?.signal?.throwIfAborted()
      yield await store.getBytes(cid)
    },
  }
}

/** Resolves `/ipfs/{cid}/a/b` with the UnixFS exporter, turning its errors into named ones. */
export async function resolveEntry(g: GatewayRequest): Promise<UnixFSEntry> {
  const { cid, segments } = g.path
  const target = segments.length === 0 ? cid : `${cid}/${segments.join('/')}`
  try {
    return await exporter(target, readableStore(g.store), { signal: g.signal })
  } catch (err) {
    const name = (err as { name?: string } | null)?.name
    if (name === 'NotFoundError') throw new PathNotFoundError({ cid: cid.toString(), path: segments.join('/') })
    if (name === 'NotUnixFSError' || name === 'NoResolverError')
      throw new UnsupportedCidError({ cid: cid.toString(), reason: 'it is not a UnixFS file or folder' })
    throw err
  }
}

/** Serves a UnixFS file's bytes (with single-range support) or a folder's JSON listing. */
export async function sendDeserialized(g: GatewayRequest): Promise<void> {
  const entry = await resolveEntry(g)
  if (entry.type === 'directory') return sendListing(g, entry)
  if (entry.type !== 'file' && entry.type !== 'raw' && entry.type !== 'identity')
    throw new UnsupportedCidError({ cid: entry.cid.toString(), reason: 'it is not a UnixFS file or folder' })
  const size = Number(entry.size)
  const etag = `"${entry.cid}"`
  if (sendNotModified(g, etag)) return
  const range = parseRange(g.req.headers.range, size)
  const headers = {
    ...immutableHeaders(etag),
    'accept-ranges': 'bytes',
    'content-type': contentTypeFor(g.path.segments.at(-1)),
    'content-security-policy': 'sandbox',
  }
  if (range.kind === 'unsatisfiable') {
    g.res.setHeader('content-range', `bytes */${size}`)
    throw new RangeNotSatisfiableError({ size })
  }
  const start = range.kind === 'partial' ? range.start : 0
  const length = range.kind === 'partial' ? range.end - range.start + 1 : size
  if (range.kind === 'partial') {
    g.res.writeHead(206, { ...headers, 'content-length': length, 'content-range': `bytes ${start}-${range.end}/${size}` })
  } else {
    g.res.writeHead(200, { ...headers, 'content-length': length })
  }
  if (g.req.method === 'HEAD') return void g.res.end()
  await sendBody(g.res, fileBytes(entry, start, length, g.signal), g.limiters, g.signal)
}

async function* fileBytes(
  entry: Extract<UnixFSEntry, { type: 'file' | 'raw' | 'identity' }>,
  start: number,
  length: number,
  signal: AbortSignal,
): AsyncGenerator<Uint8Array> {
  for (let offset = start; offset < start + length; offset += SLICE) {
    const n = Math.min(SLICE, start + length - offset)
    yield* entry.content({ offset, length: n, blockReadConcurrency: BLOCK_READ_CONCURRENCY, signal })
  }
}

async function sendListing(g: GatewayRequest, dir: UnixFSDirectory): Promise<void> {
  const links = []
  for await (const link of dir.entries({ signal: g.signal, length: MAX_LISTING + 1 })) links.push(link)
  const truncated = links.length > MAX_LISTING
  const entries = []
  // the type and true size of an entry live in its own root block
  for (let i = 0; i < Math.min(links.length, MAX_LISTING); i += 16) {
    const batch = links.slice(i, Math.min(i + 16, MAX_LISTING))
    entries.push(
      ...(await Promise.all(
        batch.map(async (link) => {
          const child = link.cid.code === RAW_CODEC ? undefined : await exporter(link.cid, readableStore(g.store), { signal: g.signal })
          const type = child?.type === 'directory' ? 'directory' : 'file'
          const size = child === undefined || child.type === 'directory' ? link.size : child.size
          return { name: link.name, cid: link.cid.toString(), size: Number(size), type }
        }),
      )),
    )
  }
  const body = Buffer.from(JSON.stringify(truncated ? { entries, truncated } : { entries }))
  g.res.writeHead(200, {
    ...immutableHeaders(`"${dir.cid}.dir"`),
    'content-type': 'application/json; charset=utf-8',
    'content-length': body.byteLength,
  })
  if (g.req.method === 'HEAD') return void g.res.end()
  await sendBody(g.res, [body], g.limiters, g.signal)
}
